import type { ReactNode } from 'react';

export function TrailCard({ title, km, children }: { title: string; km: number; children: ReactNode }) {
  return (
    <article className="card">
      {children}
      <h2>{title}</h2>
      <p>{km} km</p>
    </article>
  );
}
