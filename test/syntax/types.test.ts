// Editor and type-checker support: with the one line of types the README
// gives, real svelte-check and vue-tsc runs accept the tag and its
// pass-through attributes, and reject a wrong prop as they would any typed
// component's.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, run } from '../browser/harness.ts';

const TMP = path.join(REPO, 'test/.tmp', `types-${process.pid}`);
afterAll(() => fs.rm(TMP, { recursive: true, force: true }));

const TSCONFIG = { compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'bundler', strict: true, noEmit: true, skipLibCheck: true, types: [] } };

async function project(name: string, files: Record<string, string>, include: string[]): Promise<string> {
  const dir = path.join(TMP, name);
  for (const [file, text] of Object.entries({ ...files, 'tsconfig.json': JSON.stringify({ ...TSCONFIG, include }) })) {
    await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fs.writeFile(path.join(dir, file), text);
  }
  return dir;
}

describe('svelte-check', () => {
  it('accepts the tag with the svelte types line, and checks its props', async () => {
    const dir = await project('svelte', {
      'src/app.d.ts': '/// <reference types="vite-plugin-generated-images/svelte" />\n',
      'src/App.svelte': `<script lang="ts">\n  let name: string = 'lighthouse';\n</script>\n\n<GeneratedImage prompt="A red lighthouse" ratio="4:3" alt="A {name}" class="hero" fetchpriority="high" />\n<GeneratedImage prompt="A boat" alt="" quality={70} widths={[320, 640]} />\n`,
      'src/Bad.svelte': '<script lang="ts"></script>\n<GeneratedImage prompt="A boat" ratio="16:10" alt="" />\n',
    }, ['src/**/*.ts', 'src/**/*.svelte']);
    const result = await run('svelte-check', ['--tsconfig', './tsconfig.json', '--output', 'machine'], { cwd: dir });
    const errors = result.stdout.split('\n').filter((line) => / ERROR /.test(line));
    expect(errors, result.stdout).toHaveLength(1);
    expect(errors[0]).toMatch(/"src\/Bad\.svelte" 2:\d+ "Type '\\"16:10\\"' is not assignable/);
  });
});

describe('vue-tsc', () => {
  it('accepts the tag with the vue types line, and checks its props', async () => {
    const dir = await project('vue', {
      'src/env.d.ts': '/// <reference types="vite-plugin-generated-images/vue" />\n',
      'src/App.vue': `<script setup lang="ts">\nconst caption = 'A paper boat';\n</script>\n\n<template>\n  <GeneratedImage prompt="A paper boat" ratio="16:9" :alt="caption" class="hero" fetchpriority="high" />\n  <GeneratedImage prompt="A fox" alt="" :quality="70" :widths="[320, 640]" />\n</template>\n`,
      'src/Bad.vue': '<script setup lang="ts"></script>\n<template>\n  <GeneratedImage prompt="A boat" ratio="16:10" alt="" />\n</template>\n',
    }, ['src/**/*.ts', 'src/**/*.vue']);
    const result = await run('vue-tsc', ['-p', 'tsconfig.json'], { cwd: dir });
    const errors = result.stdout.split('\n').filter((line) => /error TS/.test(line));
    expect(errors, result.stdout).toHaveLength(1);
    expect(errors[0]).toMatch(/^src\/Bad\.vue\(3,\d+\): error TS\d+: Type '"16:10"' is not assignable/);
  });
});
