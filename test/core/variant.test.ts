// Keeping a take rewrites one usage's `variant` in its source and nothing
// else: the file stays byte-identical outside that one prop.
import { describe, expect, it } from 'vitest';
import { isError } from '../../packages/vite-plugin/src/core/errors.ts';
import { setVariant } from '../../packages/vite-plugin/src/sources/variant.ts';
import { findUsages } from '../../packages/vite-plugin/src/sources/usage.ts';

const root = '/site';
const startOf = (code: string, n = 0) => findUsages(code, `${root}/x.html`).usages[n]!.start;

describe('setVariant', () => {
  it.each([
    { file: 'src/App.jsx', written: 'variant={2}' },
    { file: 'src/App.tsx', written: 'variant={2}' },
    { file: 'src/pages/index.astro', written: 'variant={2}' },
    { file: 'src/App.svelte', written: 'variant={2}' },
    { file: 'src/post.mdx', written: 'variant={2}' },
    { file: 'src/App.vue', written: ':variant="2"' },
    { file: 'index.html', written: 'variant="2"' },
    { file: 'src/post.md', written: 'variant="2"' },
  ])('adds $written after ratio in $file', ({ file, written }) => {
    // A Vue file's markup is its <template> block; the wrapper stays on the first and last lines.
    const [open, close] = file.endsWith('.vue') ? ['<template>', '</template>'] : ['', ''];
    const code = `${open}<main>\n  <GeneratedImage prompt="A kite" ratio="3:2" alt="Kite" />\n  <GeneratedImage prompt="A boat" alt="" />\n</main>${close}\n`;
    const out = setVariant(code, `${root}/${file}`, startOf(code, 1), 2, root);
    expect(out.code).toBe(code.replace('prompt="A boat"', `prompt="A boat" ${written}`));
    expect(out.loc).toMatchObject({ line: 3, column: 3 });
    expect(findUsages(out.code, `${root}/${file}`).usages.map((u) => u.variant)).toEqual([0, 2]);
  });

  it.each([
    ['variant={1}', 'variant={4}'],
    ['variant={ 1 }', 'variant={4}'],
    ['variant="1"', 'variant="4"'],
    ["variant='1'", "variant='4'"],
    ['variant=1', 'variant=4'],
    [':variant="1"', ':variant="4"'],
    ['variant = {1}', 'variant = {4}'],
  ])('replaces %s in the quoting it was written in', (before, after) => {
    // Unquoted values are HTML's (JSX has none); a Vue binding lives in the <template> block.
    const file = before.startsWith(':') ? `${root}/App.vue` : before === 'variant=1' ? `${root}/index.html` : `${root}/App.jsx`;
    const [open, close] = file.endsWith('.vue') ? ['<template>', '</template>'] : ['', ''];
    const code = `${open}<div>\n  <GeneratedImage\n    prompt="A kite"\n    ${before}\n    alt="Kite"\n  />\n</div>${close}`;
    const out = setVariant(code, file, startOf(code), 4, root);
    expect(out.code).toBe(code.replace(before, after));
  });

  it('writes variant={0} over an existing variant, and adds nothing for 0 where there was none', () => {
    const code = '<GeneratedImage prompt="A kite" variant={3} alt="" />';
    expect(setVariant(code, `${root}/a.jsx`, 0, 0, root).code).toBe('<GeneratedImage prompt="A kite" variant={0} alt="" />');
    const plain = '<GeneratedImage prompt="A kite" alt="" />';
    expect(setVariant(plain, `${root}/a.jsx`, 0, 0, root).code).toBe(plain);
  });

  it('keeps every other byte, including the other usages and CRLF line ends', () => {
    const code = 'a\r\n<GeneratedImage prompt="One" alt="" />\r\n<GeneratedImage prompt="Two" ratio="16:9" variant="1" alt="" />\r\nz';
    const out = setVariant(code, `${root}/p.html`, startOf(code, 1), 7, root).code;
    expect(out).toBe(code.replace('variant="1"', 'variant="7"'));
  });

  it('refuses an offset where no usage starts any more, naming the file', () => {
    const code = '<p></p>\n<GeneratedImage prompt="A kite" alt="" />';
    try {
      setVariant(code, `${root}/src/a.jsx`, 3, 1, root);
      expect.unreachable();
    } catch (error) {
      expect(isError(error, 'SOURCE_CHANGED')).toBe(true);
      expect((error as Error).message).toMatch(/^src\/a\.jsx has no valid <GeneratedImage> at that place any more$/);
    }
  });
});
