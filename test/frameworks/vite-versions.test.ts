import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { expectOk, inProject, KEY, npm, pluginTarball, referencedInOutput, removeProjects } from './helpers.ts';
import { scaffoldTemplate, TEMPLATES } from './templates.ts';

/** The compatibility matrix: the packed plugin beside each supported Vite major, in a project of its own. */
const VANILLA = TEMPLATES.find((t) => t.name === 'vanilla')!;

let gateway: TestGateway;
beforeAll(async () => {
  gateway = await startTestGateway();
});
afterAll(async () => {
  await gateway?.close();
  await removeProjects();
});

describe.each([6, 7, 8])('Vite %i', (major) => {
  it('builds an HTML site from the tarball, and rebuilds frozen with no request', async () => {
    const dir = await scaffoldTemplate(VANILLA, [`vite@${major}`]);
    const version = JSON.parse(await fs.readFile(path.join(dir, 'node_modules/vite/package.json'), 'utf8')).version as string;
    expect(version.split('.')[0]).toBe(String(major));
    gateway.reset();
    expectOk(await inProject(dir, 'vite', ['build'], { AGNIC_API_KEY: KEY, AGNIC_BASE_URL: gateway.url }), `vite ${version} build`);
    expect(gateway.chatRequests()).toHaveLength(1);
    const html = await fs.readFile(path.join(dir, 'dist/index.html'), 'utf8');
    expect(html).toMatch(/<img src="\/assets\/[0-9a-f]{16}-128-[0-9a-f]{8}\.jpg"/);
    const names = await referencedInOutput(path.join(dir, 'dist'));
    expect(names.size).toBe(5);
    for (const name of names) expect(existsSync(path.join(dir, 'dist/assets', name)), name).toBe(true);

    gateway.reset();
    expectOk(await inProject(dir, 'vite', ['build'], { CI: 'true' }), `vite ${version} build (frozen)`);
    expect(gateway.requests).toHaveLength(0);
  });
});

describe('Vite 5', () => {
  it('is refused by the peer range, and a build forced onto it fails naming the supported versions, without a stack trace', async () => {
    const dir = await scaffoldTemplate(VANILLA);
    const refused = await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '--save-dev', await pluginTarball(), 'vite@5'], dir);
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain('ERESOLVE');
    // An optional peer (so that Astro sites keep Astro's own Vite), still enforced when Vite is there.
    expect(refused.output).toContain('peerOptional vite@"^6.0.0 || ^7.0.0 || ^8.0.0"');
    expectOk(await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '--save-dev', '--legacy-peer-deps', 'vite@5'], dir), 'npm install vite@5 --legacy-peer-deps');
    const build = await inProject(dir, 'vite', ['build'], { CI: 'true' });
    expect(build.code).not.toBe(0);
    expect(build.output).toContain('is not supported: vite-plugin-generated-images needs Vite 6, 7 or 8');
    expect(build.output).not.toMatch(/^\s+at /m);
  });
});
