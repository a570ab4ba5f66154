import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import sharp from 'sharp';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RATIO_SIZES, renderTestImage, startTestGateway } from './server.ts';
import type { TestGateway } from './server.ts';

const KEY = 'agnic_tok_test_0123456789';
const MODEL = 'google/gemini-2.0-flash';

let gw: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  gw = await startTestGateway({ apiKey: KEY });
  client = new OpenAI({ apiKey: KEY, baseURL: gw.url, maxRetries: 0 });
});
afterAll(async () => {
  await gw.close();
});
beforeEach(() => gw.reset());

/** The one place the tests reach past the SDK's types (it knows neither modalities nor images). */
function generate(prompt: string, extra: Record<string, unknown> = {}, reqOpts: Record<string, unknown> = {}): Promise<any> {
  return client.chat.completions.create(
    {
      model: MODEL,
      messages: [{ role: 'user', content: prompt }],
      modalities: ['image', 'text'],
      max_tokens: 64,
      ...extra,
    } as any,
    reqOpts as any,
  );
}

function decodeDataUrl(url: string): { mime: string; bytes: Buffer } {
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (!m) throw new Error(`not a base64 data URL: ${url.slice(0, 40)}`);
  return { mime: m[1]!, bytes: Buffer.from(m[2]!, 'base64') };
}

async function catchErr(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('chat completions', () => {
  it.each(['1:1', '16:9', '9:16', '21:9'])('returns a PNG at the table size for %s', async (ratio) => {
    const r = await generate(`A lighthouse at dusk (${ratio})`, { image_config: { aspect_ratio: ratio } });
    const choice = r.choices[0];
    expect(choice.finish_reason).toBe('stop');
    expect(choice.native_finish_reason).toBe('STOP');
    expect(choice.message.content).toBe(`Here is your image: ${`A lighthouse at dusk (${ratio})`.slice(0, 40)}`);
    expect(choice.message.images).toHaveLength(1);
    expect(choice.message.images[0].type).toBe('image_url');
    const { mime, bytes } = decodeDataUrl(choice.message.images[0].image_url.url);
    expect(mime).toBe('image/png');
    const meta = await sharp(bytes).metadata();
    expect(meta.format).toBe('png');
    expect([meta.width, meta.height]).toEqual(RATIO_SIZES[ratio]);
    expect(r.usage.cost).toBe(0.039);
  });

  it('defaults to 1:1 and scales with image_size', async () => {
    const a = await generate('default ratio');
    const ma = await sharp(decodeDataUrl(a.choices[0].message.images[0].image_url.url).bytes).metadata();
    expect([ma.width, ma.height]).toEqual([1024, 1024]);
    const b = await generate('bigger', { image_config: { aspect_ratio: '21:9', image_size: '2K' } });
    const mb = await sharp(decodeDataUrl(b.choices[0].message.images[0].image_url.url).bytes).metadata();
    expect([mb.width, mb.height]).toEqual([3072, 1344]);
  });

  it('is deterministic and not flat', async () => {
    const one = await generate('Same prompt every time', { image_config: { aspect_ratio: '16:9' } });
    const two = await generate('Same prompt every time', { image_config: { aspect_ratio: '16:9' } });
    const other = await generate('A different prompt', { image_config: { aspect_ratio: '16:9' } });
    const b1 = decodeDataUrl(one.choices[0].message.images[0].image_url.url).bytes;
    const b2 = decodeDataUrl(two.choices[0].message.images[0].image_url.url).bytes;
    const b3 = decodeDataUrl(other.choices[0].message.images[0].image_url.url).bytes;
    expect(b1.equals(b2)).toBe(true);
    expect(b1.equals(b3)).toBe(false);
    // a fresh render (bypassing the server's memo) is byte-identical too
    expect((await renderTestImage('Same prompt every time', 1344, 768)).equals(b1)).toBe(true);
    const stats = await sharp(b1).stats();
    for (const ch of stats.channels) expect(ch.stdev).toBeGreaterThan(5);
    expect(stats.isOpaque).toBe(true);
    expect(b1.length).toBeGreaterThan(500_000); // realistic, photo-like PNG size
  });

  it('rejects unknown models, text-only models and unknown ratios with 400', async () => {
    const e1 = await catchErr(generate('x', { model: 'nope/unknown' }));
    expect(e1).toBeInstanceOf(OpenAI.BadRequestError);
    expect(e1.message).toContain('nope/unknown');
    const e2 = await catchErr(generate('x', { model: 'openai/gpt-4o-mini' }));
    expect(e2.status).toBe(400);
    expect(e2.message).toContain('model does not support image output');
    const e3 = await catchErr(generate('x', { image_config: { aspect_ratio: '7:3' } }));
    expect(e3.status).toBe(400);
    expect(e3.message).toContain('7:3');
  });

  it('answers in text when image output is not requested', async () => {
    const r = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
    expect(r.choices[0]!.finish_reason).toBe('stop');
    expect((r.choices[0]!.message as any).images).toBeUndefined();
    expect(r.choices[0]!.message.content).toBeTruthy();
  });
});

describe('faults', () => {
  it('status with Retry-After, FIFO, `times`', async () => {
    gw.fault({ status: 429, retryAfter: '7', message: 'slow down' }, 2);
    gw.fault({ status: 402 });
    const e1 = await catchErr(generate('a'));
    expect(e1).toBeInstanceOf(OpenAI.RateLimitError);
    expect(e1.headers.get('retry-after')).toBe('7');
    expect(e1.message).toContain('slow down');
    const e2 = await catchErr(generate('a'));
    expect(e2.status).toBe(429);
    const e3 = await catchErr(generate('a'));
    expect(e3.status).toBe(402);
    expect(e3.message).toMatch(/credit/i);
    const ok = await generate('a');
    expect(ok.choices[0].message.images).toHaveLength(1);
    expect(gw.chatRequests()).toHaveLength(4);
  });

  it('textOnly: stop, native reason, no images', async () => {
    gw.fault({ textOnly: true });
    const r = await generate('refuse me');
    expect(r.choices[0].finish_reason).toBe('stop');
    expect(r.choices[0].native_finish_reason).toBe('IMAGE_SAFETY');
    expect(r.choices[0].message.content).toBe("I can't generate that image.");
    expect(r.choices[0].message.images).toBeUndefined();
    gw.fault({ textOnly: true, nativeFinishReason: 'NO_IMAGE', message: 'Sure! Here is a poem instead.' });
    const r2 = await generate('refuse me');
    expect(r2.choices[0].native_finish_reason).toBe('NO_IMAGE');
    expect(r2.choices[0].message.content).toBe('Sure! Here is a poem instead.');
  });

  it('duplicate and twoDifferent', async () => {
    gw.fault({ duplicate: true });
    const d = await generate('dup');
    expect(d.choices[0].message.images).toHaveLength(2);
    expect(d.choices[0].message.images[0].image_url.url).toBe(d.choices[0].message.images[1].image_url.url);
    gw.fault({ twoDifferent: true });
    const t = await generate('dup');
    expect(t.choices[0].message.images).toHaveLength(2);
    expect(t.choices[0].message.images[0].image_url.url).not.toBe(t.choices[0].message.images[1].image_url.url);
  });

  it('format, mislabel and size', async () => {
    gw.fault({ format: 'jpeg', mislabel: 'png', size: { width: 1024, height: 1024 } });
    const r = await generate('jpeg in disguise', { image_config: { aspect_ratio: '16:9' } });
    const { mime, bytes } = decodeDataUrl(r.choices[0].message.images[0].image_url.url);
    expect(mime).toBe('image/png');
    const meta = await sharp(bytes).metadata();
    expect(meta.format).toBe('jpeg');
    expect([meta.width, meta.height]).toEqual([1024, 1024]);
    gw.fault({ format: 'webp' });
    const w = decodeDataUrl((await generate('webp')).choices[0].message.images[0].image_url.url);
    expect(w.mime).toBe('image/webp');
    expect((await sharp(w.bytes).metadata()).format).toBe('webp');
  });

  it('payloads that are not images', async () => {
    const cases: Array<[object, string]> = [
      [{ badBase64: true }, 'image/png'],
      [{ nonImage: true }, 'image/png'],
      [{ svg: true }, 'image/svg+xml'],
      [{ html: true }, 'text/html'],
    ];
    for (const [f, mime] of cases) {
      gw.fault(f);
      const r = await generate('broken');
      const url: string = r.choices[0].message.images[0].image_url.url;
      expect(url.startsWith(`data:${mime};base64,`)).toBe(true);
      if (mime === 'image/png') {
        await expect(sharp(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64')).metadata()).rejects.toThrow();
      }
    }
  });

  it('huge: header declares more pixels than sharp allows by default', async () => {
    gw.fault({ huge: true });
    const r = await generate('huge');
    const { bytes } = decodeDataUrl(r.choices[0].message.images[0].image_url.url);
    expect(bytes.length).toBeLessThan(200_000);
    const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    expect([meta.width, meta.height]).toEqual([30000, 30000]);
    // sharp 0.35 refuses it already in metadata(), and of course when decoding
    await expect(sharp(bytes).metadata()).rejects.toThrow(/pixel limit/i);
    await expect(sharp(bytes).toBuffer()).rejects.toThrow(/pixel limit/i);
  });

  it('drop → connection error; hang → client timeout; malformedJson → parse error', async () => {
    gw.fault({ drop: true });
    const e1 = await catchErr(generate('drop'));
    expect(e1).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(e1).not.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    gw.fault({ hang: true });
    const t0 = Date.now();
    const e2 = await catchErr(generate('hang', {}, { timeout: 300 }));
    expect(e2).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(Date.now() - t0).toBeLessThan(3000);
    gw.fault({ malformedJson: true });
    const e3 = await catchErr(generate('garbled'));
    expect(e3).toBeInstanceOf(Error);
    // the server still works afterwards
    expect((await generate('fine')).choices[0].message.images).toHaveLength(1);
  });

  it('delayMs and latency', async () => {
    gw.setLatency(100);
    gw.fault({ delayMs: 150 });
    const t0 = Date.now();
    await generate('slow');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(240);
    gw.setLatency(0);
  });

  it('setFaultForPrompt persists until reset; the queue goes first', async () => {
    gw.setFaultForPrompt('forbidden', { status: 403, message: 'nope' });
    expect((await catchErr(generate('a forbidden fruit'))).status).toBe(403);
    expect((await catchErr(generate('another forbidden thing'))).status).toBe(403);
    expect((await generate('allowed')).choices[0].message.images).toHaveLength(1);
    gw.fault({ status: 503 });
    expect((await catchErr(generate('forbidden'))).status).toBe(503);
    gw.reset();
    expect((await generate('forbidden')).choices[0].message.images).toHaveLength(1);
  });
});

describe('models', () => {
  it('lists models with architecture.output_modalities', async () => {
    const page = await client.models.list();
    const ids = page.data.map((m) => m.id);
    expect(ids).toEqual(['google/gemini-2.0-flash', 'openai/gpt-4o-mini', 'google/gemini-2.5-flash-image']);
    expect((page.data[0] as any).architecture.output_modalities).toEqual(['image', 'text']);
    const res = await fetch(`${gw.url}/models?output_modalities=image`, { headers: { authorization: `Bearer ${KEY}` } });
    const body = (await res.json()) as any;
    expect(body.data.map((m: any) => m.id)).toEqual(['google/gemini-2.0-flash', 'google/gemini-2.5-flash-image']);
  });

  it('modelsOnlyTextUnlessAsked', async () => {
    const g = await startTestGateway({ modelsOnlyTextUnlessAsked: true });
    try {
      const get = async (q: string) => ((await (await fetch(`${g.url}/models${q}`)).json()) as any).data.map((m: any) => m.id);
      expect(await get('')).toEqual(['openai/gpt-4o-mini']);
      expect(await get('?output_modalities=image')).toEqual(['google/gemini-2.0-flash', 'google/gemini-2.5-flash-image']);
      expect(await get('?output_modalities=all')).toHaveLength(3);
      expect(g.requests.map((r) => r.query.output_modalities)).toEqual([undefined, 'image', 'all']);
    } finally {
      await g.close();
    }
  });
});

describe('recording, auth, robustness', () => {
  it('records every request with headers and body', async () => {
    await generate('record me', { image_config: { aspect_ratio: '3:2' } });
    await client.models.list();
    await fetch(`${gw.url}/nowhere`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(gw.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /v1/chat/completions',
      'GET /v1/models',
      'GET /v1/nowhere',
    ]);
    const [chat] = gw.chatRequests();
    expect(chat!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(chat!.body).toMatchObject({
      model: MODEL,
      messages: [{ role: 'user', content: 'record me' }],
      modalities: ['image', 'text'],
      image_config: { aspect_ratio: '3:2' },
      max_tokens: 64,
    });
    expect(typeof chat!.at).toBe('number');
  });

  it('401 without the right key; 404 JSON elsewhere', async () => {
    const bad = new OpenAI({ apiKey: 'wrong', baseURL: gw.url, maxRetries: 0 });
    const e = await catchErr(bad.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }));
    expect(e).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(e.message).toContain('Invalid API key');
    const res = await fetch(`${gw.url}/nowhere`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.message).toContain('/v1/nowhere');
  });

  it('survives bad input', async () => {
    const post = (body: string) =>
      fetch(`${gw.url}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body,
      });
    expect((await post('{not json')).status).toBe(400);
    expect((await post('[]')).status).toBe(400);
    expect((await post('{"model":"google/gemini-2.0-flash","messages":"x","modalities":["image"]}')).status).toBe(400);
    expect((await post('{"model":"google/gemini-2.0-flash","messages":[{"role":"user","content":"x"}],"modalities":["image"],"image_config":{"image_size":"9K"}}')).status).toBe(400);
    expect((await generate('still alive')).choices[0].message.images).toHaveLength(1);
  });

  it('close() terminates with a hanging request in flight', async () => {
    const g = await startTestGateway();
    const c = new OpenAI({ apiKey: 'k', baseURL: g.url, maxRetries: 0 });
    g.fault({ hang: true });
    g.fault({ delayMs: 60_000 });
    const p1 = catchErr(c.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], modalities: ['image', 'text'] } as any));
    const p2 = catchErr(c.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'y' }], modalities: ['image', 'text'] } as any));
    while (g.chatRequests().filter((r) => r.body !== undefined).length < 2) await new Promise((r) => setTimeout(r, 10));
    const t0 = Date.now();
    await g.close();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await p1).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(await p2).toBeInstanceOf(OpenAI.APIConnectionError);
  });
});

describe('cli', () => {
  it('prints TEST_GATEWAY_URL and stops on SIGTERM', async () => {
    const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
    const child = spawn(process.execPath, [cli, '--latency', '5'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
          const m = /^TEST_GATEWAY_URL=(\S+)$/m.exec(out);
          if (m) resolve(m[1]!);
        });
        child.on('exit', (code) => reject(new Error(`cli exited early (${code}): ${out}`)));
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
      const c = new OpenAI({ apiKey: 'k', baseURL: url, maxRetries: 0 });
      expect((await c.models.list()).data.length).toBe(3);
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
