// The API key never reaches the output, the cache, the logs, error messages
// or the dev server's responses, and is only ever sent to baseURL. Builds run
// with a recognizable fake key through success and failure paths (a 401 and
// 500s whose bodies echo the key, timeouts, a gateway that answers with the
// key in broken JSON); then everything they wrote and printed is searched.
import { promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createServer, type Logger } from 'vite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import generatedImages from '../../packages/vite-plugin/src/index.ts';
import { renderTestImage, startTestGateway, type TestGateway } from '../gateway/server.ts';
import { childBuild, listFiles, makeProject, readManifest, removeProject, tag, TINY, type ChildResult } from './helpers.ts';

const SECRET = 'agnic_tok_SECRET_1234567890';
const PRELOAD = path.join(import.meta.dirname, 'fixtures/record-connections.ts');
const PROMPTS = ['A quiet library with tall shelves', 'A lighthouse keeper reading', 'A map of an imaginary island'];

let gw: TestGateway;
const roots: string[] = [];
beforeAll(async () => {
  gw = await startTestGateway({ apiKey: SECRET });
});
afterAll(async () => {
  await gw.close();
  await Promise.all(roots.map(removeProject));
});
beforeEach(() => gw.reset());

/** Every file under `root` that contains the key, and where in the output streams it appears. */
async function leaks(root: string, run?: ChildResult): Promise<string[]> {
  const found: string[] = [];
  for (const file of await listFiles(root)) {
    // A lock or temp file may come and go while a dev server runs.
    const data = await fs.readFile(path.join(root, file)).catch(() => Buffer.alloc(0));
    if (data.includes(SECRET)) found.push(file);
  }
  if (run?.stdout.includes(SECRET)) found.push('stdout');
  if (run?.stderr.includes(SECRET)) found.push('stderr');
  return found;
}

/** A child `vite build` with the key in AGNIC_API_KEY, logging every TCP connection it opens. */
async function secretBuild(root: string, baseURL: string, options: object = {}): Promise<{ run: ChildResult; connections: string[] }> {
  const log = path.join(root, '..', `${path.basename(root)}.connections`);
  roots.push(log);
  const run = await childBuild(root, { ...TINY, ...options }, {
    env: { AGNIC_API_KEY: SECRET, AGNIC_BASE_URL: baseURL, NODE_OPTIONS: `--import=${PRELOAD}`, GI_CONNECTION_LOG: log },
  });
  const connections = (await fs.readFile(log, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);
  return { run, connections };
}

async function project(): Promise<string> {
  const root = await makeProject('secrets', PROMPTS.map((p) => tag(p)).join('\n'));
  roots.push(root);
  return root;
}

/** Every request reached the gateway's two endpoints, carrying the key only as the bearer token. */
function expectKeyOnlyInAuthorization(server: TestGateway): void {
  expect(server.requests.length).toBeGreaterThan(0);
  for (const request of server.requests) {
    expect(['/v1/models', '/v1/chat/completions']).toContain(request.path);
    expect(request.headers.authorization).toBe(`Bearer ${SECRET}`);
    const { authorization: _, ...others } = request.headers;
    expect(JSON.stringify(others)).not.toContain(SECRET);
    expect(JSON.stringify(request.body ?? null)).not.toContain(SECRET);
    expect(JSON.stringify(request.query)).not.toContain(SECRET);
  }
}

describe('the key stays secret in builds', () => {
  it('a successful build: not in dist, the cache or the logs; connections only to baseURL', async () => {
    const root = await project();
    const { run, connections } = await secretBuild(root, gw.url);
    expect(run.code, run.stderr).toBe(0);
    expect(Object.keys((await readManifest(path.join(root, 'generated-images'))).images)).toHaveLength(3);
    expect(await leaks(root, run)).toEqual([]);
    expectKeyOnlyInAuthorization(gw);
    expect(new Set(connections)).toEqual(new Set([`127.0.0.1:${gw.port}`]));
  });

  it.each([
    ['a 401 whose body echoes the key', { status: 401, message: `Invalid API key: ${SECRET}` }, 'check AGNIC_API_KEY'],
    ['persistent 500s whose body echoes the key', { status: 500, retryAfter: '0', message: `upstream failed for Bearer ${SECRET}` }, 'HTTP 500: upstream failed for Bearer [redacted]'],
    ['a text reply that echoes the key', { textOnly: true, message: `Your token ${SECRET} cannot make images` }, 'the model said: "Your token [redacted] cannot make images"'],
    ['timeouts', { hang: true }, 'within 3000 ms'],
  ])('%s: the build fails without printing or writing the key', async (_name, fault, reason) => {
    const root = await project();
    gw.setFaultForPrompt(PROMPTS[1]!, fault);
    const { run, connections } = await secretBuild(root, gw.url, { retries: 1, timeout: 'hang' in fault ? 3000 : 30_000 });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(reason);
    expect(await leaks(root, run)).toEqual([]);
    expectKeyOnlyInAuthorization(gw);
    expect(new Set(connections)).toEqual(new Set([`127.0.0.1:${gw.port}`]));
  });

  it('a gateway that answers with the key in broken JSON and error pages: never printed', async () => {
    const echo = await echoingGateway();
    try {
      const root = await project();
      const { run, connections } = await secretBuild(root, echo.url, { retries: 1 });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('could not be generated');
      // The echoes were there to leak, and were cut out.
      expect(run.stdout + run.stderr).toContain('Bearer [redacted]');
      expect(await leaks(root, run)).toEqual([]);
      expect(echo.authorizations.size).toBe(1);
      expect([...echo.authorizations]).toEqual([`Bearer ${SECRET}`]);
      expect(new Set(connections)).toEqual(new Set([`127.0.0.1:${echo.port}`]));
    } finally {
      await echo.close();
    }
  });

  it('a gateway whose image reply text echoes the key: the image is kept, the key is not in the manifest', async () => {
    const png = await renderTestImage('echo', 1024, 1024);
    const server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url?.startsWith('/v1/models')) {
        res.end(JSON.stringify({ data: [{ id: 'google/gemini-2.0-flash', architecture: { output_modalities: ['image', 'text'] } }] }));
        return;
      }
      const message = { role: 'assistant', content: `Generated for ${req.headers.authorization}`, images: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}` } }] };
      res.end(JSON.stringify({ choices: [{ finish_reason: 'stop', message }] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const root = await makeProject('secrets-echo', tag(PROMPTS[0]!));
      roots.push(root);
      const { run } = await secretBuild(root, `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`);
      expect(run.code, run.stderr).toBe(0);
      const [entry] = Object.values((await readManifest(path.join(root, 'generated-images'))).images) as unknown as Array<{ modelText: string }>;
      expect(entry!.modelText).toBe('Generated for Bearer [redacted]');
      expect(await leaks(root, run)).toEqual([]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

/**
 * A gateway that misbehaves in the worst way for a secret: its model list is
 * fine, but every image request is answered with the caller's Authorization
 * header echoed in an HTML error page, a JSON error, or JSON that does not parse.
 */
async function echoingGateway(): Promise<{ url: string; port: number; authorizations: Set<string>; close: () => Promise<void> }> {
  const authorizations = new Set<string>();
  let n = 0;
  const server = http.createServer((req, res) => {
    authorizations.add(String(req.headers.authorization));
    req.resume();
    if (req.url?.startsWith('/v1/models')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: [{ id: 'google/gemini-2.0-flash', architecture: { output_modalities: ['image', 'text'] } }] }));
      return;
    }
    const echo = String(req.headers.authorization);
    const replies = [
      () => { res.writeHead(502, { 'content-type': 'text/html', 'retry-after': '0' }); res.end(`<html><body>Bad gateway for ${echo}</body></html>`); },
      () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(`${echo.slice(7)} {"choices": [`); },
      () => { res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' }); res.end(JSON.stringify({ error: { message: `overloaded (${echo})` } })); },
    ];
    replies[n++ % replies.length]!();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    authorizations,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('the key stays secret in the dev server', () => {
  it('pages, images and HMR messages, while generating and after a failure, never carry the key', async () => {
    const root = await makeProject('secrets-dev', [tag(PROMPTS[0]!), tag(PROMPTS[1]!)].join('\n'));
    roots.push(root);
    gw.setFaultForPrompt(PROMPTS[1]!, { status: 401, message: `Invalid API key: ${SECRET}` });
    const lines: string[] = [];
    const record = (msg: string) => void lines.push(msg);
    const logger: Logger = { info: record, warn: record, warnOnce: record, error: record, clearScreen: () => {}, hasErrorLogged: () => false, hasWarned: false };
    const server = await createServer({
      root,
      configFile: false,
      logLevel: 'info',
      customLogger: logger,
      plugins: [generatedImages({ ...TINY, apiKey: SECRET, baseURL: gw.url, retries: 0 })],
      server: { port: 0, host: '127.0.0.1', hmr: true },
    });
    await server.listen();
    const origin = `http://127.0.0.1:${(server.httpServer!.address() as { port: number }).port}`;
    const messages: string[] = [];
    try {
      const client = await (await fetch(`${origin}/@vite/client`)).text();
      const token = /const wsToken = "([^"]*)"/.exec(client)?.[1] ?? '';
      const socket = new WebSocket(`${origin.replace('http', 'ws')}/?token=${token}`, 'vite-hmr');
      socket.addEventListener('message', (event) => messages.push(String(event.data)));
      await new Promise((resolve, reject) => {
        socket.addEventListener('open', resolve);
        socket.addEventListener('error', reject);
      });

      const responses: string[] = [await (await fetch(`${origin}/`)).text()];
      expect(responses[0]).toContain('data-generated-image="pending"');
      // Wait until the good image is in the cache and the failure has been reported.
      const deadline = Date.now() + 60_000;
      while (!(Object.keys((await readManifest(path.join(root, 'generated-images'))).images).length === 1 && messages.some((m) => m.includes('"error"')))) {
        if (Date.now() > deadline) throw new Error(`dev server did not finish: ${messages.join('\n')}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const page = await (await fetch(`${origin}/`)).text();
      responses.push(page);
      for (const url of page.match(/\/@generated-images\/[^"' ,]+/g) ?? []) {
        const response = await fetch(`${origin}${url}`);
        expect(response.status).toBe(200);
        responses.push(Buffer.from(await response.arrayBuffer()).toString('latin1'));
      }
      expect(page).toContain('<picture');
      socket.close();

      expect(messages.some((m) => m.includes('check AGNIC_API_KEY'))).toBe(true);
      expect(responses.filter((r) => r.includes(SECRET))).toEqual([]);
      expect(messages.filter((m) => m.includes(SECRET))).toEqual([]);
      expect(lines.filter((l) => l.includes(SECRET))).toEqual([]);
      expect(await leaks(root)).toEqual([]);
      expectKeyOnlyInAuthorization(gw);
    } finally {
      await server.close();
    }
  });
});
