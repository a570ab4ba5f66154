import { promises as fs } from 'node:fs';
import path from 'node:path';

const EXTENSIONS = ['astro', 'tsx', 'jsx', 'vue', 'svelte', 'mdx', 'md', 'html'] as const;
type Extension = (typeof EXTENSIONS)[number];

const words = 'the quick brown fox jumps over a lazy dog while seven wizards quietly pack boxes of liquor and mauve jugs'.split(' ');
function prose(seed: number, count: number): string {
  let out = '';
  for (let i = 0; i < count; i++) out += `${words[(seed * 7 + i * 13) % words.length]}${i % 12 === 11 ? '.\n' : ' '}`;
  return out;
}

function usage(n: number): string {
  return `<GeneratedImage prompt="Scene ${n}: a quiet street in the rain, film photograph" ratio="${['16:9', '4:3', '1:1'][n % 3]}" alt="Scene ${n}" />`;
}

/** Roughly 2–4 KB of ordinary component or page source, with or without one usage. */
function source(ext: Extension, n: number, withUsage: boolean, importOnly: boolean): string {
  const body = prose(n, 150 + (n % 7) * 40);
  const image = withUsage ? usage(n) : '';
  const imports = withUsage || importOnly;
  switch (ext) {
    case 'astro':
      return `---\n${imports ? "import { GeneratedImage } from 'astro-generated-images/components';\n" : ''}import Layout from '../layouts/Layout.astro';\nconst { title = 'Page ${n}' } = Astro.props;\nconst items = [1, 2, 3].map((i) => ({ id: i, label: \`Item \${i}\` }));\n---\n<Layout title={title}>\n  <section class="s${n}">\n    <h1>{title}</h1>\n    ${image}\n    <p>${body}</p>\n    <ul>{items.map((item) => <li data-id={item.id}>{item.label}</li>)}</ul>\n  </section>\n</Layout>\n`;
    case 'tsx':
    case 'jsx':
      return `${imports ? "import { GeneratedImage } from 'vite-plugin-generated-images/jsx';\n" : ''}import { useState } from 'react';\n\nexport default function Component${n}(${ext === 'tsx' ? 'props: { title: string }' : 'props'}) {\n  const [open, setOpen] = useState(false);\n  return (\n    <div className="c${n}" onClick={() => setOpen(!open)}>\n      <h2>{props.title}</h2>\n      ${image}\n      <p>${body}</p>\n    </div>\n  );\n}\n`;
    case 'vue':
      return `<script setup>\nimport { ref } from 'vue';\nconst open = ref(false);\n</script>\n\n<template>\n  <div class="c${n}" @click="open = !open">\n    ${image}\n    <p>${body}</p>\n  </div>\n</template>\n\n<style scoped>\n.c${n} { padding: 1rem; }\n</style>\n`;
    case 'svelte':
      return `<script>\n  let open = $state(false);\n</script>\n\n<div class="c${n}" onclick={() => (open = !open)}>\n  ${image}\n  <p>${body}</p>\n</div>\n`;
    case 'mdx':
      return `${imports ? "import { GeneratedImage } from 'vite-plugin-generated-images/jsx';\n\n" : ''}# Post ${n}\n\n${body}\n\n${image}\n\n${prose(n + 1, 80)}\n`;
    case 'md':
      return `---\ntitle: Note ${n}\n---\n\n# Note ${n}\n\n${body}\n\n${image}\n\n- one\n- two\n`;
    case 'html':
      return `<!doctype html>\n<html lang="en">\n  <head><meta charset="utf-8" /><title>Page ${n}</title></head>\n  <body>\n    <main>\n      ${image}\n      <p>${body}</p>\n    </main>\n  </body>\n</html>\n`;
  }
}

/**
 * A large project's source tree: `files` files in 50 folders across every
 * scanned file type, `usages` of them with one `<GeneratedImage>` each and
 * as many again importing the component without using it (the extractor's
 * slow path).
 */
export async function writeSourceTree(root: string, files: number, usages: number): Promise<void> {
  await fs.rm(root, { recursive: true, force: true });
  const every = Math.floor(files / usages);
  const writes: Array<[string, string]> = [];
  for (let n = 0; n < files; n++) {
    const ext = EXTENSIONS[n % EXTENSIONS.length]!;
    const withUsage = n % every === 0 && n / every < usages;
    const importOnly = !withUsage && n % every === 1 && Math.floor(n / every) < usages;
    const dir = path.join(root, 'src', `section-${n % 50}`, ext === 'html' ? 'pages' : 'components');
    writes.push([path.join(dir, `file-${n}.${ext}`), source(ext, n, withUsage, importOnly)]);
  }
  for (const dir of new Set(writes.map(([file]) => path.dirname(file)))) await fs.mkdir(dir, { recursive: true });
  for (let i = 0; i < writes.length; i += 200) await Promise.all(writes.slice(i, i + 200).map(([file, text]) => fs.writeFile(file, text)));
}
