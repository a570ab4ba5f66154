// A small, deterministic stand-in for an OpenAI-compatible AI gateway with image
// output (the Agnic / OpenRouter family), used by the integration tests, the
// benchmark and to make the examples' committed caches.
//
// Speaks the protocol described in SPEC.md ("Gateway protocol"):
//   POST /v1/chat/completions   modalities ["image","text"], image_config {aspect_ratio, image_size?}
//   GET  /v1/models[?output_modalities=image|text|all|a,b]
// Everything else is a 404 with an OpenAI-style JSON error body.
//
// Only node:http and sharp. Never crashes on bad input; close() always terminates,
// even with requests that were told to hang.

import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';

export interface Fault {
  /** Reply with this HTTP status and an OpenAI-style JSON error body `{error:{message, code, type}}`. */
  status?: number;
  /** Error message for `status`, or the assistant text for `textOnly`. */
  message?: string;
  /** `Retry-After` header value (sent with `status`). */
  retryAfter?: string;
  /** Wait this long before answering (on top of the gateway's latency). */
  delayMs?: number;
  /** Never answer: keep the socket open until the client gives up or the server closes. */
  hang?: boolean;
  /** Destroy the socket without any response. */
  drop?: boolean;
  /** 200 with a body that is not JSON. */
  malformedJson?: boolean;
  /** 200, finish_reason "stop", native_finish_reason (default "IMAGE_SAFETY"), text content, no `images`. */
  textOnly?: boolean;
  nativeFinishReason?: string;
  /** `data:image/png;base64,<garbage that is not base64 / does not decode to an image>`. */
  badBase64?: boolean;
  /** `data:image/png;base64,<base64 of plain text bytes>`. */
  nonImage?: boolean;
  /** `data:image/svg+xml;base64,<an svg>`. */
  svg?: boolean;
  /** `data:text/html;base64,<html>`. */
  html?: boolean;
  /** Return an image of this size instead of the table's. */
  size?: { width: number; height: number };
  /** Encode the image in this format and label the data URL accordingly (default png). */
  format?: ImageFormat;
  /** Label the data URL with this mime although the bytes are `format`. */
  mislabel?: ImageFormat;
  /** Return the same image twice in `images[]`. */
  duplicate?: boolean;
  /** Return two different images. */
  twoDifferent?: boolean;
  /** A PNG whose header declares 30000x30000 (more than sharp's default limitInputPixels). */
  huge?: boolean;
}

export type ImageFormat = 'png' | 'jpeg' | 'webp';

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, or undefined (no body / not JSON). */
  body: any;
  /** Date.now() when the request arrived. */
  at: number;
}

export interface GatewayModel {
  id: string;
  output_modalities: string[];
}

export interface TestGatewayOptions {
  /** Default 0 (ephemeral). */
  port?: number;
  /** Added to every chat completion (default 0). */
  latencyMs?: number;
  /** If set, requests without `Authorization: Bearer <apiKey>` get 401. */
  apiKey?: string;
  /** Default: DEFAULT_MODELS. */
  models?: GatewayModel[];
  /** OpenRouter-style: GET /models without ?output_modalities=image|all lists only text-output models. */
  modelsOnlyTextUnlessAsked?: boolean;
  /** Include a usage block with cost in replies (default true). */
  usage?: boolean;
}

export interface TestGateway {
  /** Base URL including /v1, e.g. http://127.0.0.1:PORT/v1 */
  url: string;
  port: number;
  /** Every request, in order of arrival. */
  requests: RecordedRequest[];
  /** Only POST /v1/chat/completions. */
  chatRequests(): RecordedRequest[];
  /** Queue: the next `times` (default 1) chat completion requests get this fault, FIFO. */
  fault(f: Fault, times?: number): void;
  /** Every chat request whose user prompt contains `substring` gets `f` (until reset). */
  setFaultForPrompt(substring: string, f: Fault): void;
  setLatency(ms: number): void;
  /** Clear recorded requests, queued faults and prompt faults (latency is kept). */
  reset(): void;
  /** Close the server and destroy open sockets (hanging ones too). */
  close(): Promise<void>;
}

/** Sizes the gateway returns per aspect ratio at image_size "1K" (the default). */
export const RATIO_SIZES: Record<string, [number, number]> = {
  '1:1': [1024, 1024],
  '16:9': [1344, 768],
  '9:16': [768, 1344],
  '4:3': [1184, 864],
  '3:2': [1248, 832],
  '2:3': [832, 1248],
  '3:4': [864, 1184],
  '4:5': [896, 1152],
  '5:4': [1152, 896],
  '21:9': [1536, 672],
};

/** image_config.image_size → scale factor applied to RATIO_SIZES. */
export const IMAGE_SIZE_SCALE: Record<string, number> = { '1K': 1, '2K': 2, '4K': 4 };

export const DEFAULT_MODELS: GatewayModel[] = [
  { id: 'google/gemini-2.0-flash', output_modalities: ['image', 'text'] },
  { id: 'openai/gpt-4o-mini', output_modalities: ['text'] },
  { id: 'google/gemini-2.5-flash-image', output_modalities: ['image', 'text'] },
];

const MIME: Record<ImageFormat, string> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };
const MAX_BODY = 10 * 1024 * 1024;

// ---------------------------------------------------------------------------
// Deterministic test images

/**
 * Render a deterministic, non-flat test picture: a two-colour diagonal gradient,
 * soft low-frequency waves, a handful of circles and rectangles, and seeded
 * pseudo-random noise, all derived from sha256(prompt). Same (prompt, width,
 * height, format) → byte-identical output with the same sharp/libvips.
 */
export async function renderTestImage(
  prompt: string,
  width: number,
  height: number,
  format: ImageFormat = 'png',
): Promise<Buffer> {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`renderTestImage: bad size ${width}x${height}`);
  }
  const raw = renderTestRaw(prompt, width, height);
  const img = sharp(raw, { raw: { width, height, channels: 3 } });
  switch (format) {
    case 'png':
      // adaptive row filters + fast deflate: ~2x faster than level 6 unfiltered, and smaller
      return img.png({ compressionLevel: 2, adaptiveFiltering: true }).toBuffer();
    case 'jpeg':
      return img.jpeg({ quality: 90 }).toBuffer();
    case 'webp':
      return img.webp({ quality: 90, effort: 2 }).toBuffer();
    default:
      throw new RangeError(`renderTestImage: unknown format ${String(format)}`);
  }
}

/** The raw RGB pixels behind renderTestImage (exported for measurements). */
export function renderTestRaw(prompt: string, width: number, height: number): Buffer {
  const h = createHash('sha256').update(prompt, 'utf8').digest();
  let hi = 0;
  const byte = (): number => h[hi++ % h.length]!;
  // xorshift32 seeded from the hash (never zero)
  let s = (h.readUInt32LE(28) ^ 0x9e3779b9) >>> 0 || 0x12345678;
  const rnd = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };

  const c0 = [byte(), byte(), byte()];
  const c1 = [byte(), byte(), byte()];
  const angle = (byte() / 256) * Math.PI * 2;
  const dx = Math.cos(angle);
  const dy = Math.sin(angle);
  const waveF = 2 + (byte() % 5);
  const waveA = 10 + (byte() % 20);

  // Uint8ClampedArray clamps (and rounds) on store: no branches in the hot loops.
  const px = new Uint8ClampedArray(width * height * 3);

  // Gradient + low-frequency waves, computed per row with a precomputed column term.
  const diag = Math.abs(dx) * width + Math.abs(dy) * height || 1;
  const off = (dx < 0 ? -dx * width : 0) + (dy < 0 ? -dy * height : 0);
  const colWave = new Float32Array(width);
  for (let x = 0; x < width; x++) colWave[x] = Math.sin((x / width) * Math.PI * waveF) * waveA;
  const k0 = (c1[0]! - c0[0]!) / diag;
  const k1 = (c1[1]! - c0[1]!) / diag;
  const k2 = (c1[2]! - c0[2]!) / diag;
  const b0 = c0[0]!;
  const b1 = c0[1]!;
  const b2 = c0[2]!;
  for (let y = 0; y < height; y++) {
    const rowWave = Math.cos((y / height) * Math.PI * (waveF + 1)) * waveA * 0.5;
    const ty = dy * y + off;
    let p = y * width * 3;
    for (let x = 0; x < width; x++) {
      const t = dx * x + ty;
      const w = colWave[x]! + rowWave;
      px[p++] = b0 + k0 * t + w;
      px[p++] = b1 + k1 * t + w * 0.6;
      px[p++] = b2 + k2 * t - w * 0.4;
    }
  }

  // Shapes: 3..7 circles and rectangles, translucent.
  const shapes = 3 + (byte() % 5);
  const minDim = Math.min(width, height);
  for (let i = 0; i < shapes; i++) {
    const alpha = 0.45 + (byte() / 255) * 0.45;
    const ia = 1 - alpha;
    const a0 = byte() * alpha;
    const a1 = byte() * alpha;
    const a2 = byte() * alpha;
    const cx = rnd() % width;
    const cy = rnd() % height;
    const r = Math.max(2, (minDim * (0.06 + (rnd() % 1000) / 5000)) | 0);
    const circle = (rnd() & 1) === 0;
    const ry = circle ? r : (r * 0.6) | 0;
    const x0 = Math.max(0, cx - r);
    const x1 = Math.min(width - 1, cx + r);
    const y0 = Math.max(0, cy - ry);
    const y1 = Math.min(height - 1, cy + ry);
    const r2 = r * r;
    for (let y = y0; y <= y1; y++) {
      const ddy = (y - cy) * (y - cy);
      let p = (y * width + x0) * 3;
      for (let x = x0; x <= x1; x++, p += 3) {
        if (circle && (x - cx) * (x - cx) + ddy > r2) continue;
        px[p] = px[p]! * ia + a0;
        px[p + 1] = px[p + 1]! * ia + a1;
        px[p + 2] = px[p + 2]! * ia + a2;
      }
    }
  }

  // Seeded luminance grain, -8..+8 per pixel: photo-like, so PNGs come out at a
  // realistic ~1.2 MB for 1344x768 instead of a few KB for flat colour.
  const n = px.length;
  for (let p = 0; p < n; p += 3) {
    const g = ((rnd() & 31) % 17) - 8;
    px[p] = px[p]! + g;
    px[p + 1] = px[p + 1]! + g;
    px[p + 2] = px[p + 2]! + g;
  }
  return Buffer.from(px.buffer, px.byteOffset, px.byteLength);
}

// PNG with a patched IHDR: declares 30000x30000 RGB, carries one row of pixel data.
let hugePngCache: Buffer | undefined;
export function hugePng(): Buffer {
  if (hugePngCache) return hugePngCache;
  const w = 30000;
  const h = 30000;
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  ihdr[10] = 0;
  ihdr[11] = 0;
  ihdr[12] = 0;
  const row = Buffer.alloc(1 + w * 3, 0x80);
  row[0] = 0;
  hugePngCache = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(row)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  return hugePngCache;
}

let crcTable: Uint32Array | undefined;
function crc32(b: Buffer): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = crcTable[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const TEST_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="1024" height="1024" viewBox="0 0 1024 1024">' +
  '<rect width="1024" height="1024" fill="#3a6"/><circle cx="512" cy="512" r="300" fill="#fc3"/></svg>';
const TEST_HTML = '<!doctype html><html><head><title>Error</title></head><body><h1>502 Bad Gateway</h1></body></html>';

// ---------------------------------------------------------------------------
// Server

function errorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 402) return 'insufficient_quota';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_exceeded';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

function defaultMessage(status: number): string {
  switch (status) {
    case 400: return 'Bad request';
    case 401: return 'Invalid API key';
    case 402: return 'Insufficient credits: this request requires more credits than your balance allows';
    case 403: return 'Forbidden';
    case 408: return 'Request timed out';
    case 429: return 'Rate limit exceeded, please retry later';
    case 500: return 'Internal server error';
    case 502: return 'Upstream provider error';
    case 503: return 'Service temporarily unavailable';
    case 504: return 'Gateway timeout';
    default: return `HTTP ${status}`;
  }
}

/** The text of the last user message (string content, or the text parts of an array content). */
function userPrompt(body: any): string | undefined {
  const messages = body?.messages;
  if (!Array.isArray(messages)) return undefined;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (!m || typeof m !== 'object' || m.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    if (Array.isArray(m.content)) {
      return m.content
        .filter((p: any) => p && p.type === 'text' && typeof p.text === 'string')
        .map((p: any) => p.text)
        .join('\n');
    }
    return undefined;
  }
  return undefined;
}

export async function startTestGateway(opts: TestGatewayOptions = {}): Promise<TestGateway> {
  const models = (opts.models ?? DEFAULT_MODELS).map((m) => ({ id: m.id, output_modalities: [...m.output_modalities] }));
  const withUsage = opts.usage ?? true;
  let latencyMs = opts.latencyMs ?? 0;
  const requests: RecordedRequest[] = [];
  const queue: Fault[] = [];
  const promptFaults: Array<[string, Fault]> = [];
  const sockets = new Set<Socket>();
  const timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  const imageCache = new Map<string, Buffer>();
  let cacheBytes = 0;
  let closed = false;
  let seq = 0;

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (ms <= 0 || closed) return resolve();
      const entry = {
        timer: setTimeout(() => {
          timers.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      timers.add(entry);
    });

  const image = async (prompt: string, w: number, h: number, fmt: ImageFormat): Promise<Buffer> => {
    const key = `${fmt}:${w}x${h}:${prompt}`;
    const hit = imageCache.get(key);
    if (hit) return hit;
    const buf = await renderTestImage(prompt, w, h, fmt);
    // memo of recent renders (repeat prompts in tests), bounded to ~128 MB
    imageCache.set(key, buf);
    cacheBytes += buf.length;
    while (cacheBytes > 128 * 1024 * 1024 && imageCache.size > 1) {
      const [k, v] = imageCache.entries().next().value!;
      imageCache.delete(k);
      cacheBytes -= v.length;
    }
    return buf;
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    if (res.destroyed || res.writableEnded || res.headersSent) return;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(text)),
      ...headers,
    });
    res.end(text);
  };
  const sendError = (res: ServerResponse, status: number, message?: string, headers?: Record<string, string>): void =>
    send(res, status, { error: { message: message ?? defaultMessage(status), code: status, type: errorType(status) } }, headers);

  const readBody = (req: IncomingMessage): Promise<Buffer | 'too-large'> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) tooLarge = true;
        else chunks.push(c);
      });
      req.on('end', () => resolve(tooLarge ? 'too-large' : Buffer.concat(chunks)));
      req.on('error', reject);
      req.on('aborted', () => reject(new Error('aborted')));
    });

  const completion = (model: string, message: Record<string, unknown>, finish: string, nativeFinish: string, prompt: string) => {
    const reply: Record<string, unknown> = {
      id: `gen-test-${Date.now()}-${++seq}`,
      provider: 'test-gateway',
      model,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      choices: [
        {
          index: 0,
          logprobs: null,
          finish_reason: finish,
          native_finish_reason: nativeFinish,
          message: { role: 'assistant', refusal: null, reasoning: null, ...message },
        },
      ],
    };
    if (withUsage) {
      const promptTokens = Math.max(1, Math.ceil(prompt.length / 4));
      const completionTokens = Array.isArray(message.images) ? 1290 * message.images.length + 12 : 12;
      reply.usage = {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
        cost: 0.039,
      };
    }
    return reply;
  };

  const handleModels = (res: ServerResponse, query: Record<string, string>): void => {
    const asked = query.output_modalities;
    let list = models;
    if (asked !== undefined && asked !== '') {
      const wanted = asked.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
      if (!wanted.includes('all')) list = models.filter((m) => m.output_modalities.some((o) => wanted.includes(o)));
    } else if (opts.modelsOnlyTextUnlessAsked) {
      list = models.filter((m) => !m.output_modalities.includes('image'));
    }
    send(res, 200, {
      data: list.map((m) => ({
        id: m.id,
        canonical_slug: m.id,
        name: m.id,
        object: 'model',
        created: 1735689600,
        owned_by: m.id.split('/')[0],
        architecture: {
          modality: `text->${[...m.output_modalities].sort().reverse().join('+')}`,
          input_modalities: ['text'],
          output_modalities: m.output_modalities,
          tokenizer: 'Other',
        },
      })),
    });
  };

  const handleChat = async (req: IncomingMessage, res: ServerResponse, rec: RecordedRequest): Promise<void> => {
    const raw = await readBody(req);
    if (raw === 'too-large') return sendError(res, 413, 'Request body too large');
    const text = raw.toString('utf8');
    let body: any;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      return sendError(res, 400, 'Request body is not valid JSON');
    }
    rec.body = body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) return sendError(res, 400, 'Request body must be a JSON object');

    const prompt = userPrompt(body);

    // Faults: the FIFO queue first, then persistent prompt faults.
    let fault: Fault | undefined = queue.shift();
    if (!fault && prompt !== undefined) fault = promptFaults.find(([sub]) => prompt.includes(sub))?.[1];
    fault ??= {};

    await sleep(latencyMs + (fault.delayMs ?? 0));
    if (closed || res.destroyed) return;

    if (fault.hang) return; // never answer; close() destroys the socket
    if (fault.drop) {
      req.socket.destroy();
      return;
    }
    if (fault.status !== undefined) {
      return sendError(res, fault.status, fault.message, fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {});
    }
    if (fault.malformedJson) {
      const bad = '{"id":"gen-broken","object":"chat.completion","choices":[{"index":0,"message":{"role":"assist';
      if (!res.destroyed) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(bad.length) });
        res.end(bad);
      }
      return;
    }

    // Validation, like a real gateway.
    const model = body.model;
    if (typeof model !== 'string' || model === '') return sendError(res, 400, 'model is required');
    const m = models.find((x) => x.id === model);
    if (!m) return sendError(res, 400, `${model} is not a valid model ID`);
    if (prompt === undefined || prompt.trim() === '') return sendError(res, 400, 'messages must contain a user message with text content');
    const wantsImage = Array.isArray(body.modalities) && body.modalities.includes('image');
    if (wantsImage && !m.output_modalities.includes('image')) {
      return sendError(res, 400, `model does not support image output: ${model}`);
    }
    const ic = body.image_config;
    if (ic !== undefined && ic !== null && (typeof ic !== 'object' || Array.isArray(ic))) {
      return sendError(res, 400, 'image_config must be an object');
    }
    const ratio = ic?.aspect_ratio ?? '1:1';
    if (typeof ratio !== 'string' || !Object.hasOwn(RATIO_SIZES, ratio)) {
      return sendError(res, 400, `Unsupported aspect_ratio ${JSON.stringify(ratio)}; supported: ${Object.keys(RATIO_SIZES).join(', ')}`);
    }
    const sizeName = ic?.image_size ?? '1K';
    if (typeof sizeName !== 'string' || !Object.hasOwn(IMAGE_SIZE_SCALE, sizeName)) {
      return sendError(res, 400, `Unsupported image_size ${JSON.stringify(sizeName)}; supported: 1K, 2K, 4K`);
    }

    if (!wantsImage) {
      // A real gateway just answers in text when image output was not asked for.
      return send(
        res,
        200,
        completion(model, { content: `I can only describe it in words: ${prompt.slice(0, 40)}` }, 'stop', 'STOP', prompt),
      );
    }
    if (fault.textOnly) {
      return send(
        res,
        200,
        completion(model, { content: fault.message ?? "I can't generate that image." }, 'stop', fault.nativeFinishReason ?? 'IMAGE_SAFETY', prompt),
      );
    }

    const scale = IMAGE_SIZE_SCALE[sizeName]!;
    const [tw, th] = RATIO_SIZES[ratio]!;
    const width = fault.size?.width ?? tw * scale;
    const height = fault.size?.height ?? th * scale;
    const format: ImageFormat = fault.format ?? 'png';

    let urls: string[];
    if (fault.badBase64) {
      urls = ['data:image/png;base64,!!not*base64@@' + 'QUJD'.repeat(8) + '%%%==garbage=='];
    } else if (fault.nonImage) {
      urls = ['data:image/png;base64,' + Buffer.from('This is not an image, just some plain text bytes.\n').toString('base64')];
    } else if (fault.svg) {
      urls = ['data:image/svg+xml;base64,' + Buffer.from(TEST_SVG).toString('base64')];
    } else if (fault.html) {
      urls = ['data:text/html;base64,' + Buffer.from(TEST_HTML).toString('base64')];
    } else if (fault.huge) {
      urls = ['data:image/png;base64,' + hugePng().toString('base64')];
    } else {
      const mime = MIME[fault.mislabel ?? format] ?? 'image/png';
      const first = await image(prompt, width, height, format);
      urls = [`data:${mime};base64,${first.toString('base64')}`];
      if (fault.duplicate) urls.push(urls[0]!);
      if (fault.twoDifferent) {
        const second = await image(`${prompt}\u0000second`, width, height, format);
        urls.push(`data:${mime};base64,${second.toString('base64')}`);
      }
    }
    if (closed || res.destroyed) return;
    send(
      res,
      200,
      completion(
        model,
        {
          content: `Here is your image: ${prompt.slice(0, 40)}`,
          images: urls.map((url, index) => ({ type: 'image_url', index, image_url: { url } })),
        },
        'stop',
        'STOP',
        prompt,
      ),
    );
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://127.0.0.1');
    } catch {
      url = new URL('http://127.0.0.1/');
    }
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      headers: { ...req.headers },
      body: undefined,
      at: Date.now(),
    };
    requests.push(rec);

    if (opts.apiKey !== undefined && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
      req.resume();
      return sendError(res, 401, 'Invalid API key');
    }
    const path = url.pathname.replace(/\/+$/, '');
    if (path === '/v1/chat/completions') {
      if (req.method !== 'POST') {
        req.resume();
        return sendError(res, 405, `Method ${req.method} not allowed`, { allow: 'POST' });
      }
      return handleChat(req, res, rec);
    }
    if (path === '/v1/models') {
      req.resume();
      if (req.method !== 'GET') return sendError(res, 405, `Method ${req.method} not allowed`, { allow: 'GET' });
      return handleModels(res, query);
    }
    req.resume();
    sendError(res, 404, `Not found: ${req.method} ${url.pathname}`);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      try {
        if (!res.headersSent && !res.destroyed) sendError(res, 500, `test gateway error: ${err instanceof Error ? err.message : String(err)}`);
        else res.destroy();
      } catch {
        /* ignore */
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  server.on('clientError', (_err, socket) => {
    try {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    } catch {
      /* ignore */
    }
  });
  server.on('error', () => {});

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', onError);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    chatRequests: () => requests.filter((r) => r.method === 'POST' && r.path.replace(/\/+$/, '') === '/v1/chat/completions'),
    fault(f: Fault, times = 1) {
      for (let i = 0; i < times; i++) queue.push(f);
    },
    setFaultForPrompt(substring: string, f: Fault) {
      const i = promptFaults.findIndex(([s]) => s === substring);
      if (i >= 0) promptFaults[i] = [substring, f];
      else promptFaults.push([substring, f]);
    },
    setLatency(ms: number) {
      latencyMs = ms;
    },
    reset() {
      requests.length = 0;
      queue.length = 0;
      promptFaults.length = 0;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        closed = true;
        for (const t of timers) {
          clearTimeout(t.timer);
          t.resolve();
        }
        timers.clear();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        sockets.clear();
      });
      return closing;
    },
  };
}
