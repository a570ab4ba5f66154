// The source layout shows the design: folders are layers, and imports only
// point down. A wrong import fails here, naming the file and what it imports.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(import.meta.dirname, '../..');
const SRC = path.join(REPO, 'packages/vite-plugin/src');

/** Lowest first: a module may import its own layer and those below it, never one above. */
const LAYERS = ['core', 'sources', 'render', 'vite', 'cli'] as const;
/** Packages a layer may not import at all: the core and the scanner know no host. */
const FORBIDDEN_PACKAGES: Record<string, RegExp> = {
  core: /^(vite|astro|rollup|rolldown)(\/|$)/,
  sources: /^(vite|astro|rollup|rolldown|sharp|openai)(\/|$)/,
  render: /^(vite|astro|rollup|rolldown|sharp|openai)(\/|$)/,
};

interface Violation {
  file: string;
  imports: string;
  why: string;
}

function layerOf(relative: string): number {
  const top = relative.split('/')[0]!;
  const index = LAYERS.indexOf(top as (typeof LAYERS)[number]);
  // The package's entry points (index.ts, jsx.ts, core.ts) stand above every layer.
  return index < 0 ? LAYERS.length : index;
}

function specifiers(code: string): string[] {
  const found: string[] = [];
  for (const match of code.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm)) {
    found.push((match[1] ?? match[2] ?? match[3])!);
  }
  return found;
}

/** Every import that points up a layer, or at a package its layer must not know. */
export function violations(files: Array<{ file: string; code: string }>): Violation[] {
  const out: Violation[] = [];
  for (const { file, code } of files) {
    const own = layerOf(file);
    const layerName = LAYERS[own] ?? 'entry';
    for (const spec of specifiers(code)) {
      if (spec.startsWith('.')) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
        if (target.startsWith('..')) out.push({ file, imports: spec, why: 'leaves src/' });
        else if (layerOf(target) > own) out.push({ file, imports: spec, why: `${layerName} may not import ${LAYERS[layerOf(target)] ?? 'an entry point'}` });
      } else if (FORBIDDEN_PACKAGES[layerName]?.test(spec.replace(/^node:/, ''))) {
        out.push({ file, imports: spec, why: `${layerName} may not import the package ${spec}` });
      }
    }
  }
  return out;
}

async function sources(dir: string): Promise<Array<{ file: string; code: string }>> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return Promise.all(
    entries
      .filter((e) => e.isFile() && e.name.endsWith('.ts'))
      .map(async (e) => {
        const full = path.join(e.parentPath, e.name);
        return { file: path.relative(dir, full).split(path.sep).join('/'), code: await fs.readFile(full, 'utf8') };
      }),
  );
}

describe('source layout', () => {
  it('has imports that only point down: core → sources → render → vite → cli', async () => {
    const files = await sources(SRC);
    expect(files.length).toBeGreaterThan(30);
    for (const layer of LAYERS) expect(files.some((f) => f.file.startsWith(`${layer}/`)), layer).toBe(true);
    expect(violations(files)).toEqual([]);
  });

  it('catches an import that points up, and a host package in the core', () => {
    const found = violations([
      { file: 'core/pipeline.ts', code: "import { renderUsage } from '../render/usage.js';\nimport type { Plugin } from 'vite';\n" },
      { file: 'sources/scan.ts', code: "const cli = await import('../cli/main.js');\n" },
      { file: 'vite/plugin.ts', code: "import { ImagePipeline } from '../core/pipeline.js';\n" },
    ]);
    expect(found).toEqual([
      { file: 'core/pipeline.ts', imports: '../render/usage.js', why: 'core may not import render' },
      { file: 'core/pipeline.ts', imports: 'vite', why: 'core may not import the package vite' },
      { file: 'sources/scan.ts', imports: '../cli/main.js', why: 'sources may not import cli' },
    ]);
  });

  it('has the Astro integration use the Vite package only through its exports', async () => {
    const files = await sources(path.join(REPO, 'packages/astro-integration/src'));
    const deep = files.flatMap(({ file, code }) =>
      specifiers(code)
        .filter((spec) => spec.startsWith('vite-plugin-generated-images') && !['vite-plugin-generated-images', 'vite-plugin-generated-images/core', 'vite-plugin-generated-images/errors'].includes(spec))
        .map((spec) => `${file}: ${spec}`),
    );
    expect(deep).toEqual([]);
  });
});
