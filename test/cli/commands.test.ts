import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { hashTree, viteBuild } from '../helpers.ts';
import { KEY, cli, closedPort, copyFixture, readManifest, tempDir } from './helpers.ts';

let gateway: TestGateway;
let dir: string;
const env = () => ({ AGNIC_BASE_URL: gateway.url, AGNIC_API_KEY: KEY });
const cache = (...parts: string[]) => path.join(dir, 'generated-images', ...parts);

beforeAll(async () => {
  gateway = await startTestGateway();
  dir = await copyFixture('site', 'commands');
});
afterAll(async () => {
  await gateway.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('generated-images command line', () => {
  it('prints help for the tool and for each command', async () => {
    const general = await cli(dir, ['--help']);
    expect(general.code).toBe(0);
    for (const command of ['status', 'generate', 'prune', 'verify']) expect(general.stdout).toContain(`  ${command}`);
    for (const args of [['status', '--help'], ['help', 'status'], ['prune', '-h']]) {
      const help = await cli(dir, args);
      expect(help.code, help.output).toBe(0);
      expect(help.stdout).toContain(`Usage: generated-images ${args.includes('prune') ? 'prune' : 'status'} [options]`);
      expect(help.stdout).toContain('Exit status:');
    }
    expect((await cli(dir, ['generate', '--help'])).stdout).toContain('--dry-run');
    expect((await cli(dir, ['prune', '--help'])).stdout).toContain('--include-dynamic');
  });

  it('exits 2 with a clear message for an unknown command, an unknown option or a stray argument', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['stats'], /unknown command "stats"; commands: status, generate, prune, verify/],
      [['status', '--jsn'], /unknown option --jsn for "status"; its options: --json, --root, --config, --help/],
      [['verify', '--dry-run'], /unknown option --dry-run for "verify"/],
      [['generate', 'now'], /unexpected argument "now" after "generate"/],
      [['status', '--root'], /--root/],
      [[], /no command given/],
    ];
    for (const [args, message] of cases) {
      const result = await cli(dir, args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toContain('--help');
    }
  });

  it('exits 2 outside a project, saying where it looked and how to point it at one', async () => {
    const empty = await tempDir('empty');
    const result = await cli(empty, ['status']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`no vite.config.* or astro.config.* in ${empty}`);
    expect(result.stderr).toContain('--root <dir>');
    // --root finds the project from anywhere.
    const elsewhere = await cli(empty, ['status', '--root', path.relative(empty, dir)]);
    expect(elsewhere.stdout).toContain('A lighthouse on a cliff at dusk');
    await fs.rm(empty, { recursive: true });
  });
});

describe('status, generate, verify and prune on a Vite project', () => {
  it('status lists each missing image with every place it is used, and exits 1', async () => {
    const result = await cli(dir, ['status']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/missing +[0-9a-f]{16} {2}"A lighthouse on a cliff at dusk" \(16:9\) {2}about\.html:8:5, index\.html:8:5/);
    expect(result.stdout).toMatch(/missing +[0-9a-f]{16} {2}"A blue teapot on a wooden table" \(1:1\) {2}index\.html:9:5/);
    expect(result.stdout).toMatch(/missing +[0-9a-f]{16} {2}"A fox asleep in the snow" \(4:3\) {2}about\.html:9:5/);
    expect(result.stdout).toContain('3 images in source, 0 entries in generated-images/: 3 missing');
    expect(result.stdout).toContain('run `generated-images generate`');

    const json = await cli(dir, ['status', '--json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report.summary).toMatchObject({ missing: 3, cached: 0, unused: 0 });
    expect(report.images.map((i: { state: string }) => i.state)).toEqual(['missing', 'missing', 'missing']);
    expect(report.images[0].locations).toEqual(['about.html:8:5', 'index.html:8:5']);
  });

  it('generate --dry-run says what it would generate, and neither calls the gateway nor writes anything', async () => {
    const result = await cli(dir, ['generate', '--dry-run'], env());
    expect(result.code, result.output).toBe(0);
    expect(result.stdout).toMatch(/would generate +[0-9a-f]{16} {2}"A fox asleep in the snow" \(4:3\) {2}about\.html:9:5/);
    expect(result.stdout).toContain('dry run: would generate 3 images');
    expect(gateway.requests).toHaveLength(0);
    await expect(fs.stat(cache())).rejects.toThrow();
  });

  it('generate fills the cache completely, so that a frozen build with no gateway does no work at all', async () => {
    const result = await cli(dir, ['generate'], env());
    expect(result.code, result.output).toBe(0);
    expect(gateway.chatRequests()).toHaveLength(3);
    expect(result.stderr).toContain('generating 3/3');
    expect(result.stdout).toMatch(/generated +[0-9a-f]{16} {2}"A blue teapot on a wooden table" \(1:1\) {2}index\.html:9:5/);
    // webp at 64 and 128 (96 too for the usage that asks for it), a jpeg fallback, a blur placeholder.
    expect(result.stdout).toContain('images: 3 generated, 0 reused from the cache, 14 variants encoded');
    const manifest = await readManifest(dir);
    expect(Object.keys(manifest.images)).toHaveLength(3);

    const port = await closedPort();
    const build = await viteBuild(dir, { CI: 'true', AGNIC_BASE_URL: `http://127.0.0.1:${port}/v1` });
    expect(build.code, build.output).toBe(0);
    expect(build.output).toContain('images: 0 generated, 3 reused from the cache, 0 variants encoded');
  });

  it('generate with nothing to do makes no request and leaves the cache byte-identical', async () => {
    gateway.reset();
    const before = await hashTree(cache());
    const result = await cli(dir, ['generate'], env());
    expect(result.code, result.output).toBe(0);
    expect(result.stdout).toContain('nothing to do: the cache holds every image and variant of 3 images');
    expect(gateway.requests).toHaveLength(0);
    expect(await hashTree(cache())).toEqual(before);
  });

  it('status exits 0 when every image is cached', async () => {
    const result = await cli(dir, ['status']);
    expect(result.code, result.output).toBe(0);
    expect(result.stdout).toContain('3 images in source, 3 entries in generated-images/: 3 cached');
  });

  it('verify passes on an intact cache, then names a tampered variant, a truncated original and a missing file, with exit 1', async () => {
    const clean = await cli(dir, ['verify']);
    expect(clean.code, clean.output).toBe(0);
    expect(clean.stdout).toContain('verified 3 originals and 14 variants in generated-images/: every file matches manifest.json');

    const before = await hashTree(cache());
    const manifest = await readManifest(dir);
    const [first, second] = Object.entries(manifest.images);
    const variant = Object.keys(first![1].variants).find((n) => n.endsWith('.webp'))!;
    const missing = Object.keys(second![1].variants)[0]!;
    const original = second![1].file;
    const saved = new Map<string, Buffer>();
    for (const file of [cache('variants', variant), cache('variants', missing), cache(original)]) saved.set(file, await fs.readFile(file));

    const tampered = Buffer.from(saved.get(cache('variants', variant))!);
    tampered[tampered.length - 10] ^= 0xff;
    await fs.writeFile(cache('variants', variant), tampered);
    await fs.writeFile(cache(original), saved.get(cache(original))!.subarray(0, 2000));
    await fs.rm(cache('variants', missing));

    const result = await cli(dir, ['verify']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`generated-images/variants/${variant}: sha256 [0-9a-f]{16}…, manifest\\.json says [0-9a-f]{16}… \\(the file was changed\\)`));
    expect(result.stdout).toMatch(new RegExp(`generated-images/${original}: 2000 bytes, manifest\\.json says \\d+; sha256 .*; does not decode as an image`));
    expect(result.stdout).toContain(`generated-images/variants/${missing}: missing (listed in manifest.json for ${second![0]}`);
    expect(result.stdout).toContain('3 files do not match manifest.json');

    for (const [file, data] of saved) await fs.writeFile(file, data);
    expect(await hashTree(cache())).toEqual(before);
  });

  it('prune deletes an entry no usage refers to, with its original and variants, and variants no usage shows any more', async () => {
    const about = path.join(dir, 'about.html');
    const html = await fs.readFile(about, 'utf8');
    await fs.writeFile(about, html.replace(/\n.*A fox asleep.*/, '').replace(' widths="96"', ''));
    const fox = Object.entries((await readManifest(dir)).images).find(([, e]) => e.prompt.startsWith('A fox'))!;
    const [foxKey, foxEntry] = fox;

    const status = await cli(dir, ['status']);
    expect(status.code, status.output).toBe(0);
    expect(status.stdout).toContain(`unused  ${foxKey}  "A fox asleep in the snow" (4:3) — used nowhere; prune deletes it`);

    const before = await hashTree(cache());
    const dry = await cli(dir, ['prune', '--dry-run']);
    expect(dry.code, dry.output).toBe(0);
    expect(dry.stdout).toContain(`would delete  ${foxKey}  "A fox asleep in the snow" (4:3) — used nowhere (${foxEntry.file} and 4 variants)`);
    expect(dry.stdout).toMatch(/would delete {2}generated-images\/variants\/[0-9a-f]{16}-96-[0-9a-f]{8}\.webp — no usage shows it any more/);
    expect(dry.stdout).toContain('dry run: would delete 1 image and 2 files');
    expect(await hashTree(cache())).toEqual(before);

    const result = await cli(dir, ['prune']);
    expect(result.code, result.output).toBe(0);
    expect(result.stdout).toMatch(/pruned 1 image and 2 files \(\d+(\.\d)? (KB|MB)\)/);
    const manifest = await readManifest(dir);
    expect(Object.keys(manifest.images)).not.toContain(foxKey);
    await expect(fs.stat(cache(foxEntry.file))).rejects.toThrow();
    for (const name of Object.keys(foxEntry.variants)) await expect(fs.stat(cache('variants', name))).rejects.toThrow();
    expect((await fs.readdir(cache('variants'))).filter((n) => n.includes('-96-'))).toEqual([]);
    // What is left is consistent and complete.
    expect((await cli(dir, ['verify'])).code).toBe(0);
    const after = await cli(dir, ['status']);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('2 images in source, 2 entries in generated-images/: 2 cached');
  });
  it('refuses to prune while a usage is invalid, since its image cannot be told apart from an unused one', async () => {
    const about = path.join(dir, 'about.html');
    const html = await fs.readFile(about, 'utf8');
    await fs.writeFile(about, html.replace('ratio="16:9"', 'ratio="16:10"'));
    const before = await hashTree(cache());
    const status = await cli(dir, ['status']);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/1 invalid usage:\n {2}about\.html:8:\d+: invalid ratio "16:10"; allowed: "1:1", "16:9"/);
    const prune = await cli(dir, ['prune']);
    expect(prune.code).toBe(1);
    expect(prune.stderr).toMatch(/prune refused: 1 usage is invalid[^\n]*\n {2}about\.html:8:\d+: invalid ratio "16:10"/);
    expect(await hashTree(cache())).toEqual(before);
    await fs.writeFile(about, html);
  });
});

describe('a Vite config that sets its own root', () => {
  it('the CLI reads the cache where the build wrote it, from the project folder and through --root; public/ is never scanned', async () => {
    const project = await tempDir('own-root');
    await fs.mkdir(path.join(project, 'site'));
    await fs.writeFile(
      path.join(project, 'vite.config.js'),
      "import generatedImages from 'vite-plugin-generated-images';\n\nexport default { root: 'site', build: { outDir: '../dist', emptyOutDir: true }, plugins: [generatedImages({ widths: [64], formats: ['webp'], frozen: false })] };\n",
    );
    await fs.writeFile(path.join(project, 'site', 'index.html'), '<!doctype html>\n<GeneratedImage prompt="A red kite over a field" ratio="16:9" alt="Kite" />\n');
    // Vite copies public/ as it is: a usage there would be paid for and never shown.
    const copied = '<!doctype html>\n<p>How to write one:</p>\n<GeneratedImage prompt="A blue whale" alt="" />\n';
    await fs.mkdir(path.join(project, 'site', 'public'));
    await fs.writeFile(path.join(project, 'site', 'public', 'raw.html'), copied);
    gateway.reset();
    const build = await viteBuild(project, env());
    expect(build.code, build.output).toBe(0);
    expect(gateway.chatRequests()).toHaveLength(1);
    expect(await fs.readFile(path.join(project, 'dist', 'raw.html'), 'utf8')).toBe(copied);
    // Vite's root is the project root: the cache sits beside index.html, as public/ would.
    expect(Object.keys((await readManifest(path.join(project, 'site'))).images)).toHaveLength(1);
    for (const [cwd, args] of [[project, []], [path.dirname(project), ['--root', path.basename(project)]]] as const) {
      const status = await cli(cwd, ['status', ...args]);
      expect(status.code, status.output).toBe(0);
      expect(status.stdout).toMatch(/cached +[0-9a-f]{16} {2}"A red kite over a field" \(16:9\) {2}index\.html:2:1/);
      expect(status.stdout).toContain('1 image in source, 1 entry in generated-images/: 1 cached');
      expect((await cli(cwd, ['prune', '--dry-run', ...args])).stdout).toContain('nothing to prune');
    }
    await fs.rm(project, { recursive: true, force: true });
  });
});
