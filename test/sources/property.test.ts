// Random documents in each host language mix real usages with the same tag
// in comments, strings, code and raw text: the extractor yields exactly the
// real ones, where they are. Random input never throws anything but the
// extractor's own located errors.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findUsages } from '../../packages/vite-plugin/src/sources/usage.ts';

const WORDS = ['a', 'lighthouse', 'at', 'dawn', 'café', '東京', 'watercolour', 'red', 'boat', 'on', 'the', 'sea'];
const prompt = fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 6 }).map((words) => words.join(' '));
const tagOf = (p: string, multiline: boolean) =>
  multiline ? `<GeneratedImage\n  prompt="${p}"\n  ratio="16:9"\n  alt=""\n/>` : `<GeneratedImage prompt="${p}" alt="" />`;

/** A tag inside a JavaScript string, which cannot hold a line break. */
const oneLine = (tag: string) => tag.replace(/\n\s*/g, ' ');

/** One piece of a document: a real usage, or the tag where the language reads it as text. */
type Piece = { real: true; text: string; prompt: string } | { real: false; text: string };

interface Language {
  file: string;
  /** Decoys: the tag as text, in this language's comments, strings, code and raw text. */
  decoys: Array<(tag: string) => string>;
  /** How a real usage sits in the document (a Markdown usage is a block of its own). */
  real?: (tag: string) => string;
  /** Text around the body, and its own decoys that must stay text. */
  wrap: (body: string, decoy: string) => { head: string; tail: string };
  filler: string[];
}

const LANGUAGES: Record<string, Language> = {
  html: {
    file: '/site/index.html',
    decoys: [(t) => `<!-- ${t} -->`, (t) => `<script>const s = '${oneLine(t)}';</script>`, (t) => `<style>/* ${t} */</style>`, (t) => `<textarea>${t}</textarea>`, (t) => `<title>${t}</title>`, (t) => `<script type="application/json">{"x": 1, "t": ${JSON.stringify(t)}}</script>`],
    wrap: (_, d) => ({ head: `<!doctype html>\n<html><head><title>${d}</title><script>// ${d}</script></head><body>\n`, tail: '\n</body></html>\n' }),
    filler: ['<p>Tea & cake</p>\n', '\n', ' ', '<div class="a">x</div>'],
  },
  tsx: {
    file: '/site/src/Page.tsx',
    decoys: [(t) => `{/* ${t} */}`, (t) => `{'${oneLine(t)}'}`, (t) => `{\`${t}\`}`, (t) => `<code>{"${oneLine(t).replace(/"/g, '\\"')}"}</code>`],
    wrap: (_, d) => ({ head: `// ${d}\nconst s = '${d}';\n/* ${d} */\nexport const Page = () => (\n  <main>\n`, tail: '\n  </main>\n);\n' }),
    filler: ['<p>Tea</p>\n', '\n', ' ', '{count > 1 && <b>many</b>}'],
  },
  vue: {
    file: '/site/src/Page.vue',
    decoys: [(t) => `<!-- ${t} -->`, (t) => `{{ '${oneLine(t)}' }}`],
    wrap: (_, d) => ({ head: `<script setup>\n// ${d}\nconst s = '${d}';\n</script>\n\n<template>\n  <main>\n`, tail: `\n  </main>\n</template>\n\n<style>/* ${d} */</style>\n` }),
    filler: ['<p>{{ a > b ? 1 : 2 }}</p>\n', '\n', ' ', '<button @click="n++">+</button>'],
  },
  svelte: {
    file: '/site/src/Page.svelte',
    decoys: [(t) => `<!-- ${t} -->`, (t) => `{'${oneLine(t)}'}`, (t) => `{@html '${oneLine(t)}'}`],
    wrap: (_, d) => ({ head: `<script>\n  // ${d}\n  let s = '${d}';\n</script>\n\n`, tail: `\n<style>/* ${d} */</style>\n` }),
    filler: ['<p>{a > b}</p>\n', '\n', ' ', '<button onclick={() => n++}>+</button>'],
  },
  astro: {
    file: '/site/src/pages/index.astro',
    decoys: [(t) => `<!-- ${t} -->`, (t) => `{'${oneLine(t)}'}`, (t) => `{/* ${t} */}`, (t) => `<script>const s = '${oneLine(t)}';</script>`],
    wrap: (_, d) => ({ head: `---\n// ${d}\nconst s = '${d}';\n---\n<main>\n`, tail: '\n</main>\n' }),
    filler: ['<p>{s}</p>\n', '\n', ' ', "{[1].map((n) => <i>Don't {n}</i>)}"],
  },
  md: {
    file: '/site/docs/page.md',
    decoys: [(t) => `\n\nInline \`${t}\` code.\n\n`, (t) => `\n\n\`\`\`html\n${t}\n\`\`\`\n\n`, (t) => `\n\n    ${t.replace(/\n/g, '\n    ')}\n\n`, (t) => `\n\n<!-- ${t} -->\n\n`],
    real: (t) => `\n\n${t}\n\n`,
    wrap: (_, d) => ({ head: `# Page\n\n\`${d}\`\n`, tail: '\n' }),
    filler: ['Some *prose*.', '\n\n', '> a quote\n\n'],
  },
  mdx: {
    file: '/site/docs/page.mdx',
    decoys: [(t) => `\n\n{/* ${t} */}\n\n`, (t) => `\n\nInline \`${t}\` code.\n\n`, (t) => `\n\n\`\`\`jsx\n${t}\n\`\`\`\n\n`],
    real: (t) => `\n\n${t}\n\n`,
    wrap: (_, d) => ({ head: `export const s = '${d}';\n\n# Page\n`, tail: '\n' }),
    filler: ['Some *prose*.', '\n\n', '> a quote\n\n'],
  },
};

function pieces(language: Language): fc.Arbitrary<Piece[]> {
  const real = fc.record({ p: prompt, multiline: fc.boolean() }).map(({ p, multiline }): Piece => ({ real: true, text: tagOf(p, multiline), prompt: p }));
  const decoy = fc.record({ p: prompt, multiline: fc.boolean(), d: fc.nat(language.decoys.length - 1) }).map(({ p, multiline, d }): Piece => ({ real: false, text: language.decoys[d]!(tagOf(p, multiline)) }));
  const filler = fc.constantFrom(...language.filler).map((text): Piece => ({ real: false, text }));
  return fc.array(fc.oneof(real, decoy, filler), { maxLength: 12 });
}

describe.each(Object.entries(LANGUAGES))('random %s documents', (_, language) => {
  it('yield exactly the real usages, at their own offsets', () => {
    fc.assert(
      fc.property(pieces(language), prompt, (parts, decoyPrompt) => {
        const { head, tail } = language.wrap('', tagOf(decoyPrompt, false));
        let code = head;
        const expected: Array<{ prompt: string; start: number }> = [];
        for (const part of parts) {
          if (part.real) {
            const text = language.real ? language.real(part.text) : part.text;
            expected.push({ prompt: part.prompt, start: code.length + text.indexOf('<GeneratedImage') });
            code += text;
          } else code += part.text;
        }
        code += tail;
        const { usages, errors } = findUsages(code, language.file);
        expect(errors).toEqual([]);
        expect(usages.map((u) => ({ prompt: u.prompt, start: u.start }))).toEqual(expected);
        for (const usage of usages) {
          const before = code.slice(0, usage.start).split('\n');
          expect(usage.loc).toEqual({ file: language.file, line: before.length, column: before.at(-1)!.length + 1 });
        }
      }),
      { numRuns: 150 },
    );
  });

  it('never throws on random input, only reports located errors', () => {
    const fragment = fc.constantFrom('<GeneratedImage', ' prompt="', 'x', '"', "'", '`', '{', '}', '/>', '>', '</GeneratedImage>', '<!--', '-->', '//', '/*', '*/', '\n', ' alt=', '<script>', '</script>', '```', '---', '&eacute;', '${', '<', '=');
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 40 }), (parts) => {
        const code = parts.join('');
        const { errors } = findUsages(code, language.file);
        for (const error of errors) {
          expect(error.loc.file).toBe(language.file);
          expect(error.loc.line).toBeGreaterThanOrEqual(1);
          expect(error.loc.column).toBeGreaterThanOrEqual(1);
          expect(error.message.startsWith(`${language.file}:${error.loc.line}:${error.loc.column}: `)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
