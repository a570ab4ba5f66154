// The dev server against what a request can send, and against being closed
// with work in flight: `vite dev` of the built plugin in a process of its own
// (fixtures/dev-server.ts), raw HTTP on a socket so that any bytes can be sent.
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { cacheViolations, makeProject, readManifest, removeProject, tag, TINY } from './helpers.ts';

const KEY = 'agnic_tok_dev_server_0123456789';
const NODE = path.resolve(import.meta.dirname, '../../node_modules/.bin/node');
const SCRIPT = path.join(import.meta.dirname, 'fixtures/dev-server.ts');
const ROUTE = '/@generated-images/';
const SECRET = 'secret-outside-the-cache-5f1c';

let gw: TestGateway;
const dirs: string[] = [];
beforeAll(async () => {
  gw = await startTestGateway({ apiKey: KEY });
});
afterAll(async () => {
  await gw.close();
  await Promise.all(dirs.map(removeProject));
});
beforeEach(() => gw.reset());

interface DevProcess {
  child: ChildProcess;
  url: URL;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Polls until `check` holds; the deadline only turns a hang into a failure. */
async function until(check: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function startDev(root: string, options: object): Promise<DevProcess> {
  const child = spawn(NODE, [SCRIPT, root, JSON.stringify(options)], { cwd: root, env: { ...process.env, CI: '', AGNIC_API_KEY: '', AGNIC_BASE_URL: '' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  await until(() => /^url /m.test(out) || child.exitCode !== null, 'the dev server listens');
  const match = /^url (\S+)/m.exec(out);
  if (!match) throw new Error(`the dev server did not start:\n${out}`);
  return { child, url: new URL(match[1]!), output: () => out, exited };
}

/** One raw HTTP/1.1 request: the path goes on the wire byte for byte. Resolves to the whole response, or '' if the socket closed without one. */
function rawGet(url: URL, target: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    socket.on('error', (error) => (chunks.length ? resolve(Buffer.concat(chunks)) : reject(error)));
    socket.write(Buffer.concat([Buffer.from('GET '), target, Buffer.from(` HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`)]));
  });
}

const hostileNames: string[] = [
  '%E0%A4%A', '%', '%%', '%zz', '%C0%AF', '%ED%A0%80', '%FF', '%E0%A4', 'a%2',
  '..%2F..%2Fsecret.txt', '..%2f..%2f..%2foutside.txt', '%2e%2e%2fsecret.txt', '%2E%2E/%2E%2E/secret.txt', '../secret.txt', '../../outside.txt', '..\\..\\secret.txt', '..%5C..%5Csecret.txt',
  '%252e%252e%252fsecret.txt', '%252E%252E%252F%252E%252E%252Foutside.txt', '..%252f..%252fsecret.txt', '%25%32%65%25%32%65%25%32%66secret.txt',
  '/etc/passwd', '%2Fetc%2Fpasswd', '//etc/passwd', 'C:\\Windows\\win.ini', 'C%3A%5CWindows%5Cwin.ini', 'file:///etc/passwd', '%2F%2Fetc%2Fpasswd',
  '%00', 'abc%00.avif', '0123456789abcdef-64-abcdef12.avif%00.txt', '0123456789abcdef-64-abcdef12.avif%00', '%00../secret.txt',
  'a'.repeat(10_000), `${'%41'.repeat(5_000)}`, `${'../'.repeat(2_000)}etc/passwd`, `${'%2e%2e%2f'.repeat(1_000)}etc/passwd`,
  '..', '.', '', '?', '#', '.%2e/secret.txt', 'manifest.json', '..%2Fmanifest.json', '%2e%2e/generated-images/manifest.json', 'variants/../../secret.txt',
];

describe('the dev image route', () => {
  it('answers 1,000 random and hostile paths, still serves the page, and never returns a file from outside the cache', async () => {
    const root = await makeProject('dev-hostile', tag('A lighthouse at dusk'));
    dirs.push(root);
    await fs.writeFile(path.join(root, 'secret.txt'), SECRET);
    await fs.writeFile(path.join(path.dirname(root), 'outside.txt'), SECRET);
    // A cache with one real variant: the route must still serve it.
    const build = await startDev(root, { ...TINY, apiKey: KEY, baseURL: gw.url });
    try {
      const page = (await rawGet(build.url, Buffer.from('/'))).toString('latin1');
      await until(async () => Object.values((await readManifest(path.join(root, 'generated-images'))).images).some((e) => Object.keys(e.variants ?? {}).length > 0), 'the image and its variant are stored');
      expect(page).toContain('200 OK');
      const [entry] = Object.values((await readManifest(path.join(root, 'generated-images'))).images);
      const variant = Object.keys(entry!.variants!)[0]!;

      const random = fc.sample(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 300 }).map((s) => encodeURIComponent(s)),
          fc.string({ unit: 'binary', maxLength: 100 }),
          fc.array(fc.constantFrom('..', '%2e%2e', '%252e%252e', '%2f', '/', '\\', '%5c', '%00', '%', '%E0%A4%A', 'secret.txt', 'etc', 'passwd', variant, 'a'.repeat(50)), { maxLength: 20 }).map((parts) => parts.join('')),
          fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
        ),
        { numRuns: 1_000 - hostileNames.length, seed: 14 },
      );
      const names = [...hostileNames, ...random];
      expect(names).toHaveLength(1_000);
      const answers: Buffer[] = [];
      for (let i = 0; i < names.length; i += 25) {
        answers.push(...(await Promise.all(names.slice(i, i + 25).map((name) => rawGet(build.url, Buffer.from(`${ROUTE}${name}`, 'latin1'))))));
      }
      const unanswered = names.filter((_, i) => !/^HTTP\/1\.[01] \d{3}/.test(answers[i]!.toString('latin1')));
      expect(unanswered).toEqual([]);
      for (const answer of answers) {
        const text = answer.toString('latin1');
        expect(text).not.toContain(SECRET);
        expect(text).not.toContain('root:x:0:0');
        expect(text).not.toContain('"images"');
      }
      expect(build.child.exitCode).toBeNull();
      expect(build.output()).not.toMatch(/URIError|Unhandled|ERR_/);

      // Still up: the page, and the variant it shows.
      expect((await rawGet(build.url, Buffer.from('/'))).toString('latin1')).toMatch(/^HTTP\/1\.1 200 /);
      const served = await rawGet(build.url, Buffer.from(`${ROUTE}${variant}`));
      expect(served.toString('latin1')).toMatch(/^HTTP\/1\.1 200 [^]*Content-Type: image\/webp/i);
    } finally {
      build.child.kill('SIGKILL');
      await build.exited;
    }
  });
});

describe('closing the dev server', () => {
  it('aborts the generation in flight (the gateway sees the connection close) and the process then ends by itself', async () => {
    const prompt = 'A ship that takes forever to draw';
    const root = await makeProject('dev-close', tag(prompt));
    dirs.push(root);
    gw.setFaultForPrompt('forever', { hang: true });
    // Without the abort, a request would wait for this timeout, then be retried.
    const dev = await startDev(root, { ...TINY, apiKey: KEY, baseURL: gw.url, timeout: 600_000, retries: 3 });
    const page = (await rawGet(dev.url, Buffer.from('/'))).toString('latin1');
    expect(page).toContain('200 OK');
    await until(() => gw.stats().inFlight === 1, 'the gateway has the request');
    dev.child.stdin!.write('close\n');
    const exit = await Promise.race([dev.exited, new Promise<'alive'>((resolve) => setTimeout(() => resolve('alive'), 60_000))]);
    if (exit === 'alive') dev.child.kill('SIGKILL');
    expect(exit, `${dev.output()}\nthe gateway has ${gw.stats().inFlight} request(s) in flight`).toEqual({ code: 0, signal: null });
    expect(dev.output()).toContain('closed');
    expect(gw.stats().inFlight).toBe(0);
    expect(gw.chatRequests()).toHaveLength(1);
    expect(gw.chatRequests()[0]!.status).toBeUndefined();
    expect(await cacheViolations(path.join(root, 'generated-images'))).toEqual([]);
    expect(Object.keys((await readManifest(path.join(root, 'generated-images'))).images)).toEqual([]);
  });
});
