// The CLI loads astro.config as Astro does: a config that imports an integration
// shipped as TypeScript from node_modules (as Starlight is), which Node alone
// refuses to import ("Stripping types is currently unsupported for files under node_modules").

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, copyFixture } from './helpers.ts';

let dir: string;

beforeAll(async () => {
  dir = await copyFixture('astro-site', 'astro-ts-config');
  const kit = path.join(dir, 'node_modules', 'site-kit');
  await fs.mkdir(kit, { recursive: true });
  await fs.writeFile(path.join(kit, 'package.json'), JSON.stringify({ name: 'site-kit', type: 'module', exports: './index.ts' }));
  await fs.writeFile(
    path.join(kit, 'index.ts'),
    "import generatedImages from 'astro-generated-images';\n" +
      "export default function siteKit(): unknown[] {\n  const widths: number[] = [64, 128];\n  return [generatedImages({ widths, formats: ['webp'] })];\n}\n",
  );
  await fs.writeFile(path.join(dir, 'astro.config.mjs'), "import { defineConfig } from 'astro/config';\nimport siteKit from 'site-kit';\n\nexport default defineConfig({ integrations: [siteKit()] });\n");
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

describe('generated-images with an astro.config that imports TypeScript from node_modules', () => {
  it('status reads the integration inside it and lists what is missing', async () => {
    const status = await cli(dir, ['status', '--json']);
    expect(status.code, status.output).toBe(1);
    const report = JSON.parse(status.stdout) as { config: string; images: Array<{ state: string; prompt: string }> };
    expect(report.config).toBe('astro.config.mjs');
    expect(report.images.filter((i) => i.state === 'missing').map((i) => i.prompt)).toContain('A lighthouse on a cliff at dusk');
  });

  it('verify loads it too, and passes on the empty cache', async () => {
    const verify = await cli(dir, ['verify']);
    expect(verify.code, verify.output).toBe(0);
  });
});
