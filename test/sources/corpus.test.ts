// Documents as real sites write them: each must yield exactly its real
// usages. Everything that only looks like one (a sample in a code block, a
// commented-out usage, a string, raw text) is text, as the file's own
// language reads it.

import { describe, expect, it } from 'vitest';
import { findUsages } from '../../packages/vite-plugin/src/sources/usage.ts';

interface Case {
  name: string;
  file: string;
  code: string;
  /** The prompts of the real usages, in order, with the line and column of each. */
  real: Array<[prompt: string, line: number, column: number]>;
}

const tag = (prompt: string) => `<GeneratedImage prompt="${prompt}" alt="" />`;

const CASES: Case[] = [
  {
    name: 'an HTML page with samples in comments, raw-text elements and character references',
    file: '/site/index.html',
    code: `<!doctype html>
<html>
<head>
  <title>Using ${tag('in title')}</title>
  <style>/* ${tag('in style')} */ .x::after { content: '${tag('in style string')}' }</style>
  <script type="application/json">{"sample": "${tag('in json').replace(/"/g, '\\"')}"}</script>
  <script>const sample = '${tag('in script')}';</script>
</head>
<body>
  <!-- ${tag('commented out')} -->
  <textarea>${tag('in textarea')}</textarea>
  <div title="${tag('in attribute').replace(/"/g, '&quot;')}"></div>
  <GeneratedImage prompt="Caf&eacute; au lait &#233;t&eacute; &quot;noir&quot; &amp; more" alt="" />
  <template><GeneratedImage prompt="inside a template element" alt="" /></template>
</body>
</html>`,
    real: [['Café au lait été "noir" & more', 13, 3], ['inside a template element', 14, 13]],
  },
  {
    name: 'a React component with commented-out usages, code samples in strings and template literals',
    file: '/site/src/App.tsx',
    code: `import { GeneratedImage } from 'vite-plugin-generated-images/jsx';

// <GeneratedImage prompt="line comment" alt="" />
/* <GeneratedImage prompt="block comment" alt="" /> */
const sample = '<GeneratedImage prompt="single quoted" alt="" />';
const doc = \`Write <GeneratedImage prompt="template literal" alt="" /> \${'<GeneratedImage prompt="in substitution string" alt="" />'}\`;

export function App({ items }: { items: string[] }) {
  return (
    <main>
      {/* <GeneratedImage prompt="jsx comment" alt="" /> */}
      <pre>{'<GeneratedImage prompt="jsx string child" alt="" />'}</pre>
      <GeneratedImage
        prompt="A real hero image"
        ratio="16:9"
        alt="Hero"
      />
      {items.length > 0 && <GeneratedImage prompt="in an expression" alt="" />}
    </main>
  );
}
`,
    real: [['A real hero image', 13, 7], ['in an expression', 18, 28]],
  },
  {
    name: 'a Vue SFC with the tag in script setup comments and strings, a mustache and a custom block',
    file: '/site/src/App.vue',
    code: `<script setup lang="ts">
// <GeneratedImage prompt="script comment" alt="" />
const code = '<GeneratedImage prompt="script string" alt="" />';
</script>

<template>
  <main>
    <p>{{ '<GeneratedImage prompt="mustache string" alt="" />' }}</p>
    <!-- <GeneratedImage prompt="template comment" alt="" /> -->
    <template v-if="true"><GeneratedImage prompt="in a v-if template" alt="" /></template>
    <GeneratedImage prompt="A real Vue image" :alt="code" />
  </main>
</template>

<docs>
Use <GeneratedImage prompt="custom block" alt="" /> like this.
</docs>

<style scoped>
/* <GeneratedImage prompt="style comment" alt="" /> */
</style>
`,
    real: [['in a v-if template', 10, 27], ['A real Vue image', 11, 5]],
  },
  {
    name: 'a Svelte component with script comments and strings, an expression and {@html}',
    file: '/site/src/App.svelte',
    code: `<script>
  // <GeneratedImage prompt="script comment" alt="" />
  let sample = '<GeneratedImage prompt="script string" alt="" />';
</script>

<p>{'<GeneratedImage prompt="expression string" alt="" />'}</p>
{@html '<GeneratedImage prompt="html tag" alt="" />'}
{#if sample}
  <GeneratedImage prompt="A real Svelte image" alt="A {sample}" />
{/if}
<button onclick={() => (sample = '<GeneratedImage prompt="handler string" alt="" />')}>x</button>

<style>
  /* <GeneratedImage prompt="style comment" alt="" /> */
</style>
`,
    real: [['A real Svelte image', 9, 3]],
  },
  {
    name: 'an Astro page with frontmatter code, script text and JSX inside expressions',
    file: '/site/src/pages/index.astro',
    code: `---
import { GeneratedImage } from 'astro-generated-images/components';
// <GeneratedImage prompt="frontmatter comment" alt="" />
const sample = '<GeneratedImage prompt="frontmatter string" alt="" />';
const items = ["don't", 'b'];
---
<Layout>
  <p>{sample}</p>
  {/* <GeneratedImage prompt="expression comment" alt="" /> */}
  {items.map((item) => <figure><p>Don't stop</p><GeneratedImage prompt="in a map" alt={item} /></figure>)}
  <GeneratedImage prompt="A real Astro image" alt="" />
  <script>const x = '<GeneratedImage prompt="script text" alt="" />';</script>
</Layout>
`,
    real: [['in a map', 10, 49], ['A real Astro image', 11, 3]],
  },
  {
    name: 'a Markdown docs page that shows the tag in every kind of code sample',
    file: '/site/docs/usage.md',
    code: `---
title: Using <GeneratedImage>
---

# Usage

Write \`<GeneratedImage prompt="inline code" alt="" />\` in a page:

\`\`\`html
<GeneratedImage prompt="fenced" alt="" />
\`\`\`

~~~
<GeneratedImage prompt="tilde fence" alt="" />
~~~

    <GeneratedImage prompt="indented code" alt="" />

<!-- <GeneratedImage prompt="html comment" alt="" /> -->

<GeneratedImage prompt="A real Markdown image" alt="" />

> Quoted: <GeneratedImage prompt="in a blockquote" alt="" />
`,
    real: [['A real Markdown image', 21, 1], ['in a blockquote', 23, 11]],
  },
  {
    name: 'an MDX page with comments, code and JSX in expressions',
    file: '/site/docs/post.mdx',
    code: `import { GeneratedImage } from 'vite-plugin-generated-images/jsx';
export const sample = '<GeneratedImage prompt="esm string" alt="" />';

{/* <GeneratedImage prompt="mdx comment" alt="" /> */}

Inline \`<GeneratedImage prompt="inline code" alt="" />\` stays code.

\`\`\`jsx
<GeneratedImage prompt="fenced" alt="" />
\`\`\`

<GeneratedImage prompt="A real MDX image" alt={sample} />

{true && <GeneratedImage prompt="in an expression" alt="" />}
`,
    real: [['A real MDX image', 12, 1], ['in an expression', 14, 10]],
  },
];

describe('the corpus of real documents', () => {
  it.each(CASES)('$name yields exactly its real usages', ({ file, code, real }) => {
    const { usages, errors } = findUsages(code, file);
    expect(errors).toEqual([]);
    expect(usages.map((u) => [u.prompt, u.loc.line, u.loc.column])).toEqual(real);
    for (const usage of usages) expect(code.slice(usage.start, usage.start + 15)).toBe('<GeneratedImage');
  });
});
