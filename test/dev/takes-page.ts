// The takes page as the tests read it, whether it is its own tab (Vite) or a
// frame in Astro's dev toolbar.

import type { Frame, Page } from 'playwright-core';

/** Waits until the take `variant` of the usage whose prompt is `prompt` shows its loaded image. */
export function takeLoaded(takes: Page | Frame, prompt: string, variant: number): Promise<unknown> {
  return takes.waitForFunction(([prompt, variant]) => {
    const card = [...document.querySelectorAll('section.usage')].find((s) => s.querySelector('.prompt')?.textContent === prompt);
    const img = card?.querySelector(`figure[data-take="${variant}"][data-state="ready"] img`) as HTMLImageElement | undefined;
    return !!img && img.complete && img.naturalWidth > 0;
  }, [prompt, variant] as const, { timeout: 60_000 });
}

/** The two takes' images are in one row, the second to the right of the first. */
export async function sideBySide(takes: Page | Frame, prompt: string, variants: [number, number]): Promise<boolean> {
  const card = takes.locator('section.usage', { has: takes.locator('.prompt', { hasText: prompt }) });
  const [a, b] = await Promise.all(variants.map((n) => card.locator(`figure[data-take="${n}"] img`).boundingBox()));
  return !!a && !!b && a.y === b.y && b.x >= a.x + a.width;
}
