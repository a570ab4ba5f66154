import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import sharp from 'sharp';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { RATIO_SIZES, hugePng, imageSeed, renderTestImage, startTestGateway } from './server.ts';
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

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const dataUrl = (mime: string, b: Buffer): string => `data:${mime};base64,${b.toString('base64')}`;
const imagePart = (url: string) => ({ type: 'image_url', image_url: { url } });
const textPart = (text: string) => ({ type: 'text', text });
/** A chat request whose user message is `parts` (references first, as the plugin sends them). */
const generateParts = (parts: unknown[], extra: Record<string, unknown> = {}) =>
  generate('', { messages: [{ role: 'user', content: parts }], ...extra });
const imageOf = (r: any): Buffer => decodeDataUrl(r.choices[0].message.images[0].image_url.url).bytes;

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

describe('image content parts', () => {
  let refA: Buffer; // 64x48 PNG
  let refB: Buffer; // 40x40 JPEG
  beforeAll(async () => {
    refA = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#c33' } }).png().toBuffer();
    refB = await sharp({ create: { width: 40, height: 40, channels: 3, background: '#36c' } }).jpeg().toBuffer();
  });

  it('records every image part: mime, sha256, size, decoding, position before the text', async () => {
    const r = await generateParts(
      [imagePart(dataUrl('image/png', refA)), imagePart(dataUrl('image/jpeg', refB)), textPart('Our mascot on a beach')],
      { image_config: { aspect_ratio: '16:9' } },
    );
    const meta = await sharp(imageOf(r)).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 1344, 768]);
    expect(r.choices[0].message.content).toBe('Here is your image: Our mascot on a beach');
    const [rec] = gw.chatRequests();
    expect(rec!.status).toBe(200);
    expect(rec!.promptText).toBe('Our mascot on a beach');
    expect(rec!.imageParts).toEqual([
      { index: 0, beforeText: true, mime: 'image/png', sha256: sha256(refA), bytes: refA.length, decodes: true, format: 'png', width: 64, height: 48 },
      { index: 1, beforeText: true, mime: 'image/jpeg', sha256: sha256(refB), bytes: refB.length, decodes: true, format: 'jpeg', width: 40, height: 40 },
    ]);
    // the recorded body is the request as sent
    expect(rec!.body.messages[0].content.map((p: any) => p.type)).toEqual(['image_url', 'image_url', 'text']);

    // a text part before an image; text parts are joined; string content has no parts
    await generateParts([textPart('first'), imagePart(dataUrl('image/png', refA)), textPart('second')]);
    await generate('plain string prompt');
    const [, mixed, plain] = gw.chatRequests();
    expect(mixed!.promptText).toBe('first\nsecond');
    expect(mixed!.imageParts).toHaveLength(1);
    expect(mixed!.imageParts[0]).toMatchObject({ index: 1, beforeText: false, sha256: sha256(refA), decodes: true });
    expect(plain!.promptText).toBe('plain string prompt');
    expect(plain!.imageParts).toEqual([]);
  });

  it('the picture depends on the prompt and on the references, deterministically', async () => {
    const prompt = 'The mascot, waving';
    const a = dataUrl('image/png', refA);
    const b = dataUrl('image/jpeg', refB);
    const none = imageOf(await generate(prompt));
    const withA = imageOf(await generateParts([imagePart(a), textPart(prompt)]));
    const withA2 = imageOf(await generateParts([imagePart(a), textPart(prompt)]));
    const withB = imageOf(await generateParts([imagePart(b), textPart(prompt)]));
    const withAB = imageOf(await generateParts([imagePart(a), imagePart(b), textPart(prompt)]));
    const withBA = imageOf(await generateParts([imagePart(b), imagePart(a), textPart(prompt)]));
    const otherPrompt = imageOf(await generateParts([imagePart(a), textPart('The mascot, sleeping')]));
    expect(withA.equals(withA2)).toBe(true);
    const all = [none, withA, withB, withAB, withBA, otherPrompt].map(sha256);
    expect(new Set(all).size).toBe(all.length);
    // without references the picture is exactly what it always was
    expect(none.equals(await renderTestImage(prompt, 1024, 1024))).toBe(true);
    expect(withAB.equals(await renderTestImage(imageSeed(prompt, [sha256(refA), sha256(refB)]), 1024, 1024))).toBe(true);
  });

  it('a part that does not decode is a 400 naming it, and is recorded as such', async () => {
    const text = Buffer.from('This is not an image, just some plain text bytes.\n');
    const truncated = refA.subarray(0, Math.floor(refA.length / 2));
    const cases: Array<[unknown[], RegExp]> = [
      [[imagePart(dataUrl('image/png', refA)), imagePart(dataUrl('image/png', text)), textPart('x')], /image part 2 does not decode/],
      [[imagePart('data:image/png;base64,!!not*base64@@%%%'), textPart('x')], /image part 1 does not decode.*not valid base64/],
      [[imagePart('https://example.com/mascot.png'), textPart('x')], /image part 1 does not decode.*not a data: URL/],
      [[imagePart(dataUrl('image/png', truncated)), textPart('x')], /image part 1 does not decode/],
      [[imagePart(dataUrl('image/png', hugePng())), textPart('x')], /image part 1 does not decode.*pixel limit/i],
    ];
    for (const [parts, message] of cases) {
      const e = await catchErr(generateParts(parts));
      expect(e).toBeInstanceOf(OpenAI.BadRequestError);
      expect(e.message).toMatch(message);
    }
    const recs = gw.chatRequests();
    expect(recs.map((r) => r.status)).toEqual([400, 400, 400, 400, 400]);
    expect(recs[0]!.imageParts.map((p) => p.decodes)).toEqual([true, false]);
    expect(recs[0]!.imageParts[1]).toMatchObject({ index: 1, mime: 'image/png', sha256: sha256(text), bytes: text.length, decodes: false });
    expect(recs[0]!.imageParts[1]!.width).toBeUndefined();
    expect(recs[2]!.imageParts[0]).toMatchObject({ mime: '', bytes: 0, decodes: false });
    expect(recs[3]!.imageParts[0]).toMatchObject({ sha256: sha256(truncated), bytes: truncated.length, decodes: false });
    // the server still works afterwards
    expect((await generateParts([imagePart(dataUrl('image/png', refA)), textPart('x')])).choices[0].message.images).toHaveLength(1);
  });
});

describe('pricing and cost', () => {
  it('/models lists OpenRouter-style pricing, with pricing.image for priced image models', async () => {
    const page = await client.models.list();
    expect(page.data.map((m: any) => m.pricing)).toEqual([
      { prompt: '0', completion: '0', image: '0.039' },
      { prompt: '0', completion: '0' },
      { prompt: '0', completion: '0', image: '0.039' },
    ]);
  });

  it('usage.cost: the model price by default, configurable, omitted on request', async () => {
    const g = await startTestGateway({
      models: [
        { id: 'acme/painter', output_modalities: ['image', 'text'], pricing: { image: '0.12' } },
        { id: 'acme/unpriced', output_modalities: ['image', 'text'] },
      ],
    });
    try {
      const c = new OpenAI({ apiKey: 'k', baseURL: g.url, maxRetries: 0 });
      const pricing = (await c.models.list()).data.map((m: any) => m.pricing);
      expect(pricing).toEqual([{ prompt: '0', completion: '0', image: '0.12' }, { prompt: '0', completion: '0' }]);
      expect('image' in pricing[1]).toBe(false);
      const gen = (model: string): Promise<any> =>
        c.chat.completions.create({ model, messages: [{ role: 'user', content: 'a price tag' }], modalities: ['image', 'text'] } as any);

      const priced = await gen('acme/painter');
      expect(priced.choices[0].message.images).toHaveLength(1);
      expect(priced.usage.cost).toBe(0.12);
      const unpriced = await gen('acme/unpriced');
      expect(unpriced.usage.prompt_tokens).toBeGreaterThan(0);
      expect('cost' in unpriced.usage).toBe(false);

      g.fault({ cost: null });
      expect('cost' in (await gen('acme/painter')).usage).toBe(false);
      g.fault({ cost: 0.5 });
      expect((await gen('acme/painter')).usage.cost).toBe(0.5);
      g.fault({ textOnly: true }); // refusals are billed too
      expect((await gen('acme/painter')).usage.cost).toBe(0.12);

      expect(g.configure({ cost: 0.07 }).cost).toBe(0.07);
      expect((await gen('acme/painter')).usage.cost).toBe(0.07);
      expect((await gen('acme/unpriced')).usage.cost).toBe(0.07);
      g.configure({ cost: null });
      expect('cost' in (await gen('acme/painter')).usage).toBe(false);
      g.configure({ cost: undefined });
      expect((await gen('acme/painter')).usage.cost).toBe(0.12);
    } finally {
      await g.close();
    }
    const off = await startTestGateway({ cost: null });
    try {
      const c = new OpenAI({ apiKey: 'k', baseURL: off.url, maxRetries: 0 });
      const r: any = await c.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'free' }] });
      expect(r.usage.total_tokens).toBeGreaterThan(0);
      expect('cost' in r.usage).toBe(false);
    } finally {
      await off.close();
    }
  });
});

describe('requests in flight', () => {
  type Outcome = { ok: true; ms: number; r: any } | { ok: false; ms: number; e: any };
  /** Fire `n` chat requests at once; each outcome with its time since the start. */
  async function burst(c: OpenAI, n: number, prompt = 'in flight'): Promise<Outcome[]> {
    const t0 = Date.now();
    return Promise.all(
      Array.from({ length: n }, () =>
        c.chat.completions
          .create({ model: MODEL, messages: [{ role: 'user', content: prompt }], modalities: ['image', 'text'] } as any)
          .then(
            (r): Outcome => ({ ok: true, ms: Date.now() - t0, r }),
            (e): Outcome => ({ ok: false, ms: Date.now() - t0, e }),
          ),
      ),
    );
  }

  it('beyond maxInFlight: 429 with Retry-After at once, while latency holds the slots; counters', async () => {
    const g = await startTestGateway({ maxInFlight: 2, latencyMs: 300 });
    try {
      const c = new OpenAI({ apiKey: 'k', baseURL: g.url, maxRetries: 0 });
      const out = await burst(c, 6);
      const ok = out.filter((o) => o.ok);
      const refused = out.filter((o) => !o.ok);
      expect(ok).toHaveLength(2);
      expect(refused).toHaveLength(4);
      for (const o of ok) {
        expect(o.r.choices[0].message.images).toHaveLength(1);
        expect(o.ms).toBeGreaterThanOrEqual(295);
      }
      for (const o of refused) {
        expect(o.e).toBeInstanceOf(OpenAI.RateLimitError);
        expect(o.e.headers.get('retry-after')).toBe('1');
        expect(o.e.message).toContain('Too many requests in flight (limit 2)');
        expect(o.e.error).toMatchObject({ code: 429, type: 'rate_limit_exceeded' });
      }
      // refused at once, without the latency
      expect(Math.max(...refused.map((o) => o.ms))).toBeLessThan(Math.min(...ok.map((o) => o.ms)));
      expect(g.stats()).toEqual({ inFlight: 0, peakInFlight: 2, rejectedOverLimit: 4 });
      const recs = g.chatRequests();
      expect(recs).toHaveLength(6);
      expect(recs.filter((r) => r.overLimit).map((r) => r.status)).toEqual([429, 429, 429, 429]);
      expect(recs.filter((r) => !r.overLimit).map((r) => r.status)).toEqual([200, 200]);
      // refused requests are recorded in full too, and consume no queued fault
      expect(recs.every((r) => r.promptText === 'in flight')).toBe(true);
      g.reset();
      expect(g.stats()).toEqual({ inFlight: 0, peakInFlight: 0, rejectedOverLimit: 0 });
    } finally {
      await g.close();
    }
  });

  it('the limit changes at runtime; a slot is free as soon as its answer goes out; hung requests hold theirs', async () => {
    const g = await startTestGateway({ maxInFlight: 1, latencyMs: 20 });
    try {
      const c = new OpenAI({ apiKey: 'k', baseURL: g.url, maxRetries: 0 });
      const one = (prompt: string, reqOpts: Record<string, unknown> = {}): Promise<any> =>
        c.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: prompt }], modalities: ['image', 'text'] } as any, reqOpts as any);
      // back to back with limit 1: never refused
      for (let i = 0; i < 4; i++) expect((await one('one at a time')).choices[0].message.images).toHaveLength(1);
      expect(g.stats()).toEqual({ inFlight: 0, peakInFlight: 1, rejectedOverLimit: 0 });

      expect(g.configure({ maxInFlight: 3, maxInFlightRetryAfter: '5', latencyMs: 300 })).toEqual({
        latencyMs: 300,
        maxInFlight: 3,
        maxInFlightRetryAfter: '5',
        cost: undefined,
      });
      let out = await burst(c, 5);
      expect(out.filter((o) => o.ok)).toHaveLength(3);
      const refused = out.filter((o) => !o.ok);
      expect(refused).toHaveLength(2);
      for (const o of refused) expect(o.e.headers.get('retry-after')).toBe('5');
      expect(g.stats()).toEqual({ inFlight: 0, peakInFlight: 3, rejectedOverLimit: 2 });

      g.reset();
      g.setMaxInFlight(undefined);
      out = await burst(c, 5);
      expect(out.every((o) => o.ok)).toBe(true);
      expect(g.stats()).toEqual({ inFlight: 0, peakInFlight: 5, rejectedOverLimit: 0 });

      // a hanging request holds its slot until the client gives up
      g.reset();
      g.configure({ maxInFlight: 1, latencyMs: 0 });
      g.fault({ hang: true });
      const hung = catchErr(one('hang', { timeout: 400 }));
      while (g.stats().inFlight < 1) await new Promise((r) => setTimeout(r, 5));
      const e = await catchErr(one('blocked'));
      expect(e).toBeInstanceOf(OpenAI.RateLimitError);
      expect(await hung).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
      while (g.stats().inFlight > 0) await new Promise((r) => setTimeout(r, 5));
      expect((await one('free again')).choices[0].message.images).toHaveLength(1);
      expect(g.stats()).toEqual({ inFlight: 0, peakInFlight: 1, rejectedOverLimit: 1 });
      expect(() => g.setMaxInFlight(-1)).toThrow(RangeError);
    } finally {
      await g.close();
    }
  });
});

describe('cli', () => {
  it('prints TEST_GATEWAY_URL and stops on SIGTERM', async () => {
    const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
    const child = spawn(process.execPath, [cli, '--latency', '300', '--max-in-flight', '1', '--max-in-flight-retry-after=3'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
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
      const gen = () => c.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'cli' }], modalities: ['image', 'text'] } as any);
      const [first, second] = await Promise.allSettled([gen(), gen()]);
      expect(first.status).toBe('fulfilled');
      expect(second.status).toBe('rejected');
      const e = (second as PromiseRejectedResult).reason;
      expect(e).toBeInstanceOf(OpenAI.RateLimitError);
      expect(e.headers.get('retry-after')).toBe('3');
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
