// The `references` and `art` props as each syntax writes them, read by the one extractor.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findUsages } from '../../packages/vite-plugin/src/sources/usage.ts';

const dir = '/site/src/pages';
const one = (code: string, file: string) => {
  const scan = findUsages(code, path.join(dir, file));
  return { usage: scan.usages[0], errors: scan.errors.map((e) => e.message) };
};

describe('references and art in source', () => {
  it('reads references as space-separated paths in HTML, and as arrays of string literals in JSX, Svelte, Astro and Vue', () => {
    const cases: Array<[string, string]> = [
      ['index.html', '<GeneratedImage prompt="A kite" alt="" references="/brand/look.png  ./mascot.webp" />'],
      ['page.jsx', 'export default () => <GeneratedImage prompt="A kite" alt="" references={["/brand/look.png", "./mascot.webp"]} />;'],
      ['Page.svelte', '<GeneratedImage prompt="A kite" alt="" references={["/brand/look.png", "./mascot.webp"]} />'],
      ['page.astro', '---\n---\n<GeneratedImage prompt="A kite" alt="" references={["/brand/look.png", "./mascot.webp"]} />'],
      ['Page.vue', `<template><GeneratedImage prompt="A kite" alt="" :references="['/brand/look.png', './mascot.webp']" /></template>`],
      ['post.mdx', '# Post\n\n<GeneratedImage prompt="A kite" alt="" references="/brand/look.png ./mascot.webp" />\n'],
    ];
    for (const [file, code] of cases) {
      const { usage, errors } = one(code, file);
      expect(errors, file).toEqual([]);
      expect(usage!.references, file).toEqual(['/brand/look.png', './mascot.webp']);
      // Relative paths are resolved from the source file's folder.
      expect(usage!.referencesBase, file).toBe(dir);
    }
  });

  it('reads art in the syntax of sizes, with crop', () => {
    const { usage, errors } = one('<GeneratedImage prompt="A harbour" ratio="16:9" alt="" art="(max-width: 640px) 9:16 crop, (min-width: 641px) and (max-width: 1024px) 4:3" />', 'index.html');
    expect(errors).toEqual([]);
    expect(usage!.art).toEqual([
      { media: '(max-width: 640px)', ratio: '9:16', crop: true },
      { media: '(min-width: 641px) and (max-width: 1024px)', ratio: '4:3', crop: false },
    ]);
  });

  it('names file:line:column and what is allowed for a bad art or references', () => {
    const bad = [
      ['<GeneratedImage prompt="A" alt="" art="(max-width: 640px) 7:5" />', /index\.html:1:35: invalid art .*has the ratio "7:5"; allowed: "1:1"/],
      ['<GeneratedImage prompt="A" alt="" art="9:16" />', /index\.html:1:35: invalid art "9:16": the entry "9:16" is not a media condition followed by a ratio/],
      ['<GeneratedImage prompt="A" alt="" references="" />', /index\.html:1:35: references must be image file paths/],
    ] as const;
    for (const [code, message] of bad) expect(one(code, 'index.html').errors.join('\n')).toMatch(message);
    expect(one('export default () => <GeneratedImage prompt="A" alt="" art={layout} />;', 'a.jsx').errors.join('\n')).toMatch(/art must be a literal \(e\.g\. art="\(max-width: 640px\) 9:16/);
  });
});
