// Every fault the test gateway can inject, through the real Gateway class
// (openai SDK, HTTP, sharp): what is retried, what fails at once, and what
// the user reads. Backoff is a few milliseconds here (the `backoffMs` option);
// Retry-After values are the gateway's. A few replies the test gateway cannot
// produce (truncated images, links instead of data URLs) come from a tiny
// server of their own.
import http from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GeneratedImagesError } from '../../packages/vite-plugin/src/core/errors.ts';
import { Gateway, type GatewayOptions } from '../../packages/vite-plugin/src/core/generation/gateway.ts';
import type { Ratio } from '../../packages/vite-plugin/src/core/ratios.ts';
import { renderTestImage, startTestGateway, type Fault, type TestGateway } from '../gateway/server.ts';
import { closedPort, sha256 } from './helpers.ts';

const KEY = 'agnic_tok_faults_0123456789';
let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({ apiKey: KEY });
});
afterAll(() => gw.close());
beforeEach(() => gw.reset());

interface Retry {
  attempt: number;
  delayMs: number;
  reason: string;
}

function client(options: Partial<GatewayOptions> = {}): { gateway: Gateway; retries: Retry[] } {
  const retries: Retry[] = [];
  const gateway = new Gateway({
    apiKey: KEY,
    baseURL: gw.url,
    model: 'google/gemini-2.0-flash',
    retries: 2,
    timeout: 30_000,
    backoffMs: 5,
    onRetry: (info) => retries.push(info),
    ...options,
  });
  return { gateway, retries };
}

const request = (ratio: Ratio = '1:1', prompt = 'A red kite over a green hill') => ({ prompt, ratio, imageSize: null });

async function failure(promise: Promise<unknown>): Promise<GeneratedImagesError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GeneratedImagesError);
  return error as GeneratedImagesError;
}

describe('rate limits and server errors are retried', () => {
  it('429 with Retry-After waits as long as the gateway asks, then succeeds', async () => {
    gw.fault({ status: 429, retryAfter: '1' });
    const { gateway, retries } = client();
    const result = await gateway.generate(request());
    expect(result.attempts).toBe(2);
    expect(result.width).toBe(1024);
    expect(retries).toEqual([{ attempt: 1, delayMs: 1000, reason: 'HTTP 429: Rate limit exceeded, please retry later' }]);
    expect(gw.chatRequests()).toHaveLength(2);
  });

  it('429 without Retry-After backs off exponentially with jitter', async () => {
    gw.fault({ status: 429 }, 2);
    const { gateway, retries } = client({ backoffMs: 20 });
    const result = await gateway.generate(request());
    expect(result.attempts).toBe(3);
    expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
    // 20 ms, then 40 ms, each ±25%.
    expect(retries[0]!.delayMs).toBeGreaterThanOrEqual(15);
    expect(retries[0]!.delayMs).toBeLessThanOrEqual(25);
    expect(retries[1]!.delayMs).toBeGreaterThanOrEqual(30);
    expect(retries[1]!.delayMs).toBeLessThanOrEqual(50);
  });

  it.each([500, 502, 503])('%i then success', async (status) => {
    gw.fault({ status, retryAfter: '0' });
    const { gateway, retries } = client();
    const result = await gateway.generate(request('16:9'));
    expect(result.attempts).toBe(2);
    expect([result.width, result.height]).toEqual([1344, 768]);
    expect(retries).toHaveLength(1);
    expect(retries[0]!.reason).toMatch(new RegExp(`^HTTP ${status}: `));
  });

  it('persistent 5xx gives up after the retry budget, saying how often and why', async () => {
    gw.fault({ status: 503, retryAfter: '0' }, 10);
    const { gateway } = client({ retries: 3 });
    const error = await failure(gateway.generate(request()));
    expect(error.message).toBe('gave up after 4 attempts: HTTP 503: Service temporarily unavailable');
    expect(gw.chatRequests()).toHaveLength(4);
  });

  it('the SDK does not retry on its own: one attempt is one request', async () => {
    gw.fault({ status: 500, retryAfter: '0' }, 10);
    const { gateway } = client({ retries: 0 });
    const error = await failure(gateway.generate(request()));
    expect(error.message).toBe('gave up after 1 attempt: HTTP 500: Internal server error');
    expect(gw.chatRequests()).toHaveLength(1);
  });
});

describe('client errors fail at once with the gateway message', () => {
  it.each([
    [400, 'image_config.aspect_ratio is not supported by this provider', /^the gateway rejected the request \(HTTP 400: image_config\.aspect_ratio is not supported by this provider\)$/],
    [401, 'Invalid API key', /check AGNIC_API_KEY \(or the apiKey option\) \(HTTP 401: Invalid API key\)$/],
    [402, 'Insufficient credits: this request requires more credits than your balance allows', /credit or spending limit is exhausted.*\(HTTP 402: Insufficient credits/],
    [403, 'Model access denied for this key', /not allowed to use this model.*\(HTTP 403: Model access denied for this key\)$/],
  ] as const)('%i: no retry', async (status, message, expected) => {
    gw.fault({ status, message }, 5);
    const { gateway, retries } = client();
    const error = await failure(gateway.generate(request()));
    expect(error.message).toMatch(expected);
    expect(error.status).toBe(status);
    expect(retries).toHaveLength(0);
    expect(gw.chatRequests()).toHaveLength(1);
  });

  it('a key the gateway does not know is a 401 that points at AGNIC_API_KEY', async () => {
    const { gateway } = client({ apiKey: 'agnic_tok_wrong_key_000' });
    const error = await failure(gateway.generate(request()));
    expect(error.message).toContain('check AGNIC_API_KEY');
    expect(error.message).not.toContain('agnic_tok_wrong_key_000');
    expect(gw.chatRequests()).toHaveLength(1);
  });

  it('a refused key stops at the model check, before any generation request', async () => {
    const gateway = new Gateway({ apiKey: 'agnic_tok_wrong_key_000', baseURL: gw.url, model: 'google/gemini-2.0-flash', retries: 2, timeout: 5000 });
    const error = await failure(gateway.checkModel());
    expect(error.status).toBe(401);
    expect(gw.chatRequests()).toHaveLength(0);
  });
});

describe('transport failures are retried', () => {
  it('a request that hangs times out, then the retry succeeds', async () => {
    gw.fault({ hang: true });
    // Long enough for the good reply on a busy machine.
    const { gateway, retries } = client({ timeout: 2000 });
    const result = await gateway.generate(request());
    expect(result.attempts).toBe(2);
    expect(retries[0]!.reason).toBe(`no answer from ${gw.url} within 2000 ms`);
  });

  it('a request that always hangs gives up with the timeout as the reason', async () => {
    gw.fault({ hang: true }, 3);
    const { gateway } = client({ timeout: 200, retries: 1 });
    const error = await failure(gateway.generate(request()));
    expect(error.message).toBe(`gave up after 2 attempts: no answer from ${gw.url} within 200 ms`);
  });

  it('a dropped connection is retried', async () => {
    gw.fault({ drop: true });
    const { gateway, retries } = client();
    const result = await gateway.generate(request());
    expect(result.attempts).toBe(2);
    expect(retries[0]!.reason).toMatch(/^could not connect to http:\/\/127\.0\.0\.1:\d+\/v1 \(/);
  });

  it('an unreachable gateway gives up naming the connection error', async () => {
    const baseURL = `http://127.0.0.1:${await closedPort()}/v1`;
    const { gateway } = client({ baseURL, retries: 1 });
    const error = await failure(gateway.generate(request()));
    expect(error.message).toBe(`gave up after 2 attempts: could not connect to ${baseURL} (connect ECONNREFUSED ${baseURL.slice(7, -3)}): check baseURL (or AGNIC_BASE_URL) and the network`);
  });

  it('malformed JSON is retried', async () => {
    gw.fault({ malformedJson: true });
    const { gateway, retries } = client();
    const result = await gateway.generate(request());
    expect(result.attempts).toBe(2);
    expect(retries[0]!.reason).toMatch(/not valid JSON/);
  });
});

describe('replies without a usable image are failed attempts', () => {
  it('text and no image is retried, then reported with the model text and native_finish_reason', async () => {
    gw.fault({ textOnly: true, message: 'I drew nothing this time.', nativeFinishReason: 'NO_IMAGE' }, 3);
    const { gateway, retries } = client();
    const error = await failure(gateway.generate(request()));
    expect(error.message).toBe('gave up after 3 attempts: the reply has no image (finish reason: NO_IMAGE); the model said: "I drew nothing this time."');
    expect(retries).toHaveLength(2);
  });

  it.each(['IMAGE_SAFETY', 'PROHIBITED_CONTENT', 'IMAGE_PROHIBITED_CONTENT', 'RECITATION'])('a refusal (%s) is not retried: one request, billed once', async (reason) => {
    gw.fault({ textOnly: true, message: 'I cannot create images of real people.', nativeFinishReason: reason }, 3);
    const { gateway, retries } = client();
    const error = await failure(gateway.generate(request()));
    expect(error.message).toBe(`the reply has no image (finish reason: ${reason}); the model said: "I cannot create images of real people.". A refusal, not retried: a retry would be billed and refused again`);
    expect(retries).toHaveLength(0);
    expect(gw.chatRequests()).toHaveLength(1);
  });

  it('text and no image once, then an image', async () => {
    gw.fault({ textOnly: true, nativeFinishReason: 'NO_IMAGE' });
    const { gateway, retries } = client();
    const result = await gateway.generate(request());
    expect(result.attempts).toBe(2);
    expect(retries[0]!.reason).toContain('finish reason: NO_IMAGE');
  });

  it.each<[string, Fault, RegExp]>([
    ['bad base64', { badBase64: true }, /the image\/png image is not valid base64/],
    ['a non-image payload', { nonImage: true }, /the image\/png image does not decode: its bytes are not a PNG, JPEG or WebP/],
    ['an SVG', { svg: true }, /the gateway returned image\/svg\+xml, which is not accepted: only PNG, JPEG and WebP images are/],
    ['an HTML page', { html: true }, /the gateway returned text\/html, which is not accepted/],
    ['a 1024×1024 image for 16:9 (aspect_ratio ignored)', { size: { width: 1024, height: 1024 } }, /the image is 1024×1024, 42\.9% off the 16:9 ratio \(expected 1344×768\)/],
    ['a 1344×700 image for 16:9', { size: { width: 1344, height: 700 } }, /the image is 1344×700, .*% off the 16:9 ratio/],
    ['a huge image (beyond sharp\'s pixel limit)', { huge: true }, /the image is too large to process safely/],
  ])('%s is refused, retried, and reported', async (_name, fault, reason) => {
    gw.fault(fault, 3);
    const { gateway, retries } = client();
    const error = await failure(gateway.generate(request('16:9')));
    expect(error.message).toMatch(/^gave up after 3 attempts: /);
    expect(error.message).toMatch(reason);
    expect(retries).toHaveLength(2);
    expect(gw.chatRequests()).toHaveLength(3);
  });

  it.each<[string, Fault]>([
    ['bad base64', { badBase64: true }],
    ['an SVG', { svg: true }],
    ['a wrong size', { size: { width: 1024, height: 1024 } }],
    ['a huge image', { huge: true }],
  ])('%s once, then a good image: the good one is returned', async (_name, fault) => {
    gw.fault(fault);
    const { gateway } = client();
    const result = await gateway.generate(request('16:9'));
    expect(result.attempts).toBe(2);
    expect(result.mime).toBe('image/png');
    expect([result.width, result.height]).toEqual([1344, 768]);
  });
});

describe('replies the test gateway cannot fake', () => {
  it.each(['png', 'jpeg', 'webp'] as const)('a truncated %s (valid base64, cut-off image) is refused', async (format) => {
    const full = await renderTestImage('truncated', 1024, 1024, format);
    const cut = full.subarray(0, Math.floor(full.length * 0.9));
    const server = await replyingGateway(() => imageReply(`data:image/${format};base64,${cut.toString('base64')}`));
    try {
      const gateway = new Gateway({ apiKey: KEY, baseURL: server.url, model: 'google/gemini-2.0-flash', retries: 1, timeout: 30_000, backoffMs: 1 });
      const error = await failure(gateway.generate(request()));
      expect(error.message).toMatch(new RegExp(`^gave up after 2 attempts: the image/${format} image does not decode \\(`));
    } finally {
      await server.close();
    }
  });

  it('an https image URL instead of a data URL is refused and never fetched', async () => {
    const elsewhere = await replyingGateway(() => ({}));
    const server = await replyingGateway(() => imageReply(`${elsewhere.url}/image.png`));
    try {
      const gateway = new Gateway({ apiKey: KEY, baseURL: server.url, model: 'google/gemini-2.0-flash', retries: 0, timeout: 30_000 });
      const error = await failure(gateway.generate(request()));
      expect(error.message).toBe(`gave up after 1 attempt: the image is not a data: URL (starts with ${JSON.stringify(`${elsewhere.url}/image.png`.slice(0, 30))})`);
      expect(elsewhere.hits).toBe(0);
    } finally {
      await Promise.all([server.close(), elsewhere.close()]);
    }
  });
});

function imageReply(url: string): object {
  return { choices: [{ finish_reason: 'stop', message: { role: 'assistant', content: 'Here it is', images: [{ type: 'image_url', image_url: { url } }] } }] };
}

/** A gateway that answers every chat completion with `reply()`, counting the requests it gets. */
async function replyingGateway(reply: () => object): Promise<{ url: string; hits: number; close: () => Promise<void> }> {
  const state = { url: '', hits: 0, close: () => Promise.resolve() };
  const server = http.createServer((req, res) => {
    state.hits++;
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(reply()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
  state.close = () => new Promise((resolve) => server.close(() => resolve()));
  return state;
}

describe('what real gateways send', () => {
  it.each<[string, Fault, string, string]>([
    ['JPEG labelled PNG', { format: 'jpeg', mislabel: 'png' }, 'image/jpeg', 'jpeg'],
    ['WebP labelled PNG', { format: 'webp', mislabel: 'png' }, 'image/webp', 'webp'],
    ['JPEG labelled JPEG', { format: 'jpeg' }, 'image/jpeg', 'jpeg'],
  ])('%s is kept with its real format and extension', async (_name, fault, mime, extension) => {
    gw.fault(fault);
    const { gateway } = client();
    const result = await gateway.generate(request('4:3'));
    expect(result.mime).toBe(mime);
    expect(result.extension).toBe(extension);
    expect([result.width, result.height]).toEqual([1184, 864]);
    expect(result.attempts).toBe(1);
  });

  it('the same picture twice: the first is kept', async () => {
    const [first, second] = (await fetchReply({ duplicate: true })).map((url) => Buffer.from(url.split(',')[1]!, 'base64'));
    expect(sha256(first!)).toBe(sha256(second!));
    gw.fault({ duplicate: true });
    const { gateway } = client();
    const result = await gateway.generate(request());
    expect(sha256(result.data)).toBe(sha256(first!));
  });

  it('two different pictures: the first is kept', async () => {
    const [first] = (await fetchReply({ twoDifferent: true })).map((url) => Buffer.from(url.split(',')[1]!, 'base64'));
    gw.fault({ twoDifferent: true });
    const { gateway } = client();
    const result = await gateway.generate(request());
    expect(sha256(result.data)).toBe(sha256(first!));
  });

  it('sends max_tokens, modalities and image_config as the SPEC says, with the key only in Authorization', async () => {
    const { gateway } = client();
    await gateway.generate({ prompt: 'A kite', ratio: '3:2', imageSize: '2K' });
    const [sent] = gw.chatRequests();
    expect(sent!.body).toMatchObject({ model: 'google/gemini-2.0-flash', modalities: ['image', 'text'], image_config: { aspect_ratio: '3:2', image_size: '2K' }, max_tokens: 4096 });
    expect(sent!.headers.authorization).toBe(`Bearer ${KEY}`);
  });
});

/** The image URLs the gateway sends for a fault, read with plain fetch (what the Gateway must then choose from). */
async function fetchReply(fault: Fault): Promise<string[]> {
  gw.fault(fault);
  const response = await fetch(`${gw.url}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'google/gemini-2.0-flash', messages: [{ role: 'user', content: 'A red kite over a green hill' }], modalities: ['image', 'text'], image_config: { aspect_ratio: '1:1' } }),
  });
  const body = (await response.json()) as { choices: Array<{ message: { images: Array<{ image_url: { url: string } }> } }> };
  return body.choices[0]!.message.images.map((i) => i.image_url.url);
}
