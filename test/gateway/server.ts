// A small, deterministic stand-in for an OpenAI-compatible AI gateway with image
// output (the Agnic / OpenRouter family), used by the integration tests, the
// benchmark and to make the examples' committed caches.
//
// Speaks the protocol described in SPEC.md ("Gateway protocol"):
//   POST /v1/chat/completions   modalities ["image","text"], image_config {aspect_ratio, image_size?};
//                               the user message's content may be a string or an array of parts,
//                               {type:"image_url", image_url:{url:"data:…;base64,…"}} references
//                               (recorded with their sha256; each must decode with sharp, else 400)
//                               and {type:"text", text}; replies carry usage.cost
//   GET  /v1/models[?output_modalities=image|text|all|a,b]   with OpenRouter-style pricing
// Everything else is a 404 with an OpenAI-style JSON error body.
// Optionally limits the chat requests in flight (429 + Retry-After beyond the limit) and
// counts them, so that a client's adaptive concurrency can be measured against it.
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
  /** `usage.cost` of this reply instead of the configured one; `null` omits `usage.cost`. */
  cost?: number | null;
}

export type ImageFormat = 'png' | 'jpeg' | 'webp';

/** An `image_url` content part of a chat request's user message, as the gateway saw it. */
export interface ImagePart {
  /** Position of the part in the user message's `content` array. */
  index: number;
  /** The part comes before the message's first text part. */
  beforeText: boolean;
  /** The mime type the data URL declares ('' when the URL is not a data URL). */
  mime: string;
  /** sha256 (hex) of the decoded bytes. */
  sha256: string;
  /** Number of decoded bytes. */
  bytes: number;
  /** sharp decodes the bytes (fully, with its default limits). */
  decodes: boolean;
  /** sharp's format name (png, jpeg, webp, …), when it decodes. */
  format?: string;
  /** Pixel size, when it decodes. */
  width?: number;
  height?: number;
  /** Why it does not decode. */
  error?: string;
}

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
  /** Chat requests: the text of the user message (string content, or its text parts joined by "\n"); '' if none. */
  promptText: string;
  /** Chat requests: the user message's `image_url` parts, in order; [] if none. */
  imageParts: ImagePart[];
  /** HTTP status the gateway answered with (undefined while pending, or when it hung up / dropped the connection). */
  status?: number;
  /** The request was refused with 429 because `maxInFlight` requests were already in flight. */
  overLimit?: boolean;
}

export interface GatewayModel {
  id: string;
  output_modalities: string[];
  /**
   * OpenRouter-style prices in USD, as strings. `/models` lists `pricing: {prompt, completion, image?}`
   * (prompt and completion default to "0"); without `image` the model has no per-image price
   * (a client reports it as unknown) and replies carry no `usage.cost` unless `cost` is configured.
   */
  pricing?: { image?: string; prompt?: string; completion?: string };
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
  /** Include a usage block in replies (default true). */
  usage?: boolean;
  /**
   * `usage.cost` of every reply (USD). Default: the model's `pricing.image` as a number (no
   * `usage.cost` when the model has no image price). `null`: never report `usage.cost`.
   */
  cost?: number | null;
  /**
   * At most this many chat completion requests in flight at once (from arrival until the answer
   * is sent, so latency and delays hold a slot); requests beyond it get 429 at once, with
   * `Retry-After: maxInFlightRetryAfter` and an OpenAI-style error body. Default: no limit
   * (undefined, 0 and Infinity all mean no limit).
   */
  maxInFlight?: number;
  /** `Retry-After` header value (seconds) of the 429s sent because of `maxInFlight` (default "1"). */
  maxInFlightRetryAfter?: string;
  /** Larger request bodies get 413 (default 64 MiB: references of up to 8 MB are sent base64). */
  maxBodyBytes?: number;
}

/** What can be changed while the gateway runs (see TestGateway.configure). */
export interface GatewayConfig {
  latencyMs: number;
  /** undefined: no limit. */
  maxInFlight: number | undefined;
  maxInFlightRetryAfter: string;
  /** undefined: the model's price; null: no `usage.cost`. */
  cost: number | null | undefined;
}

/** Counters of chat completion requests in flight. */
export interface GatewayStats {
  /** Chat requests being handled right now (holding a slot). */
  inFlight: number;
  /** The most in flight at once since start or the last reset(). */
  peakInFlight: number;
  /** 429s sent because of `maxInFlight` since start or the last reset(). */
  rejectedOverLimit: number;
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
  /** Change the in-flight limit (undefined, 0 or Infinity: no limit); requests already in flight keep their slots. */
  setMaxInFlight(n: number | undefined): void;
  /** Change any of latency, in-flight limit, its Retry-After and the reported cost; returns the resulting config. */
  configure(patch: Partial<GatewayConfig>): GatewayConfig;
  /** Counters: in flight now, peak in flight, 429s because of the limit. */
  stats(): GatewayStats;
  /**
   * Clear recorded requests, queued faults and prompt faults; peakInFlight restarts from the
   * current in-flight count and rejectedOverLimit from 0 (latency, limit and cost are kept).
   */
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
  { id: 'google/gemini-2.0-flash', output_modalities: ['image', 'text'], pricing: { image: '0.039' } },
  { id: 'openai/gpt-4o-mini', output_modalities: ['text'] },
  { id: 'google/gemini-2.5-flash-image', output_modalities: ['image', 'text'], pricing: { image: '0.039' } },
];

const MIME: Record<ImageFormat, string> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };
const MAX_BODY = 64 * 1024 * 1024;

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

/**
 * The string the gateway seeds renderTestImage with: the prompt text alone without references
 * (so those pictures are as they always were), else the prompt and the references' sha256s in
 * order, so that other references give other pictures.
 */
export function imageSeed(prompt: string, referenceSha256s: readonly string[] = []): string {
  return referenceSha256s.length === 0 ? prompt : `${prompt}\u0000references:${referenceSha256s.join(',')}`;
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

/** The last user message and its index in `messages`, or undefined. */
function userMessage(body: any): { message: any; index: number } | undefined {
  const messages = body?.messages;
  if (!Array.isArray(messages)) return undefined;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m && typeof m === 'object' && m.role === 'user') return { message: m, index: i };
  }
  return undefined;
}

/** The text of the last user message (string content, or the text parts of an array content). */
function userPrompt(body: any): string | undefined {
  const content = userMessage(body)?.message.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .filter((p: any) => p && p.type === 'text' && typeof p.text === 'string')
      .map((p: any) => p.text)
      .join('\n');
  }
  return undefined;
}

interface Decoded {
  decodes: boolean;
  format?: string;
  width?: number;
  height?: number;
  error?: string;
}

/** Decode fully with sharp (default limits), as a gateway must before passing an image on. */
async function decodeImage(bytes: Buffer): Promise<Decoded> {
  try {
    const meta = await sharp(bytes).metadata();
    await sharp(bytes).raw().toBuffer();
    return { decodes: true, format: meta.format, width: meta.width, height: meta.height };
  } catch (err) {
    return { decodes: false, error: err instanceof Error ? err.message : String(err) };
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Split a data URL into its declared mime and bytes; `error` when it is not a base64 data URL. */
function parseDataUrl(url: unknown): { mime: string; bytes: Buffer; error?: string } {
  if (typeof url !== 'string') return { mime: '', bytes: Buffer.alloc(0), error: 'the part has no image_url.url' };
  const m = /^data:([^,]*),(.*)$/is.exec(url);
  if (!m) return { mime: '', bytes: Buffer.alloc(0), error: `not a data: URL (${url.slice(0, 40)}); the test gateway fetches nothing` };
  const [rawMime = '', ...params] = m[1]!.split(';');
  const mime = rawMime.trim().toLowerCase();
  const payload = m[2]!;
  if (!params.some((x) => x.trim().toLowerCase() === 'base64')) {
    return { mime, bytes: Buffer.from(decodeURIComponentSafe(payload), 'utf8'), error: 'the data URL is not base64' };
  }
  const b64 = payload.replace(/\s+/g, '');
  const bytes = Buffer.from(b64, 'base64');
  if (!BASE64.test(b64) || b64.length % 4 === 1) return { mime, bytes, error: 'the data URL payload is not valid base64' };
  return { mime, bytes };
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function checkMaxInFlight(n: number | undefined): number | undefined {
  if (n === undefined || n === 0 || n === Infinity) return undefined;
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`maxInFlight must be a non-negative integer, got ${n}`);
  return n;
}

export async function startTestGateway(opts: TestGatewayOptions = {}): Promise<TestGateway> {
  const models: GatewayModel[] = (opts.models ?? DEFAULT_MODELS).map((m) => ({
    id: m.id,
    output_modalities: [...m.output_modalities],
    ...(m.pricing ? { pricing: { ...m.pricing } } : {}),
  }));
  const withUsage = opts.usage ?? true;
  const maxBody = opts.maxBodyBytes ?? MAX_BODY;
  const config: GatewayConfig = {
    latencyMs: opts.latencyMs ?? 0,
    maxInFlight: checkMaxInFlight(opts.maxInFlight),
    maxInFlightRetryAfter: opts.maxInFlightRetryAfter ?? '1',
    cost: opts.cost,
  };
  const counters: GatewayStats = { inFlight: 0, peakInFlight: 0, rejectedOverLimit: 0 };
  /** Per response: its recorded request, and (chat requests holding a slot) the release of the slot. */
  const recordOf = new WeakMap<ServerResponse, RecordedRequest>();
  const releaseOf = new WeakMap<ServerResponse, () => void>();
  const decodeCache = new Map<string, Decoded>();
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

  /** The answer is about to go out: record its status and free the in-flight slot first (so a client that sends its next request at once finds it free). */
  const answered = (res: ServerResponse, status: number): void => {
    const rec = recordOf.get(res);
    if (rec) rec.status = status;
    releaseOf.get(res)?.();
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    if (res.destroyed || res.writableEnded || res.headersSent) return;
    answered(res, status);
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
        if (size > maxBody) tooLarge = true;
        else chunks.push(c);
      });
      req.on('end', () => resolve(tooLarge ? 'too-large' : Buffer.concat(chunks)));
      req.on('error', reject);
      req.on('aborted', () => reject(new Error('aborted')));
    });

  /** usage.cost of a reply: the fault's, else the configured one, else the model's image price; null: none. */
  const replyCost = (m: GatewayModel, fault: Fault): number | null => {
    if (fault.cost !== undefined) return fault.cost;
    if (config.cost !== undefined) return config.cost;
    const price = m.pricing?.image;
    if (price === undefined) return null;
    const n = Number(price);
    return Number.isFinite(n) ? n : null;
  };

  const completion = (
    model: string,
    message: Record<string, unknown>,
    finish: string,
    nativeFinish: string,
    prompt: string,
    cost: number | null,
  ) => {
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
        ...(cost !== null ? { cost } : {}),
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
        pricing: {
          prompt: m.pricing?.prompt ?? '0',
          completion: m.pricing?.completion ?? '0',
          ...(m.pricing?.image !== undefined ? { image: m.pricing.image } : {}),
        },
      })),
    });
  };

  /** The user message's image parts: mime, sha256, size, and whether (and how) they decode. */
  const imageParts = async (body: any): Promise<ImagePart[]> => {
    const content = userMessage(body)?.message.content;
    if (!Array.isArray(content)) return [];
    const firstText = content.findIndex((p: any) => p && p.type === 'text');
    const parts: ImagePart[] = [];
    for (let index = 0; index < content.length; index++) {
      const p = content[index];
      if (!p || typeof p !== 'object' || p.type !== 'image_url') continue;
      const { mime, bytes, error } = parseDataUrl(typeof p.image_url === 'string' ? p.image_url : p.image_url?.url);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      let decoded: Decoded;
      if (error !== undefined) decoded = { decodes: false, error };
      else {
        decoded = decodeCache.get(sha256) ?? (await decodeImage(bytes));
        decodeCache.set(sha256, decoded);
        if (decodeCache.size > 256) decodeCache.delete(decodeCache.keys().next().value!);
      }
      parts.push({ index, beforeText: firstText === -1 || index < firstText, mime, sha256, bytes: bytes.length, ...decoded });
    }
    return parts;
  };

  /** Read, parse and record a chat request's body (prompt text, image parts); or the 4xx to answer with. */
  const readChat = async (req: IncomingMessage, rec: RecordedRequest): Promise<{ body: any } | { status: number; message: string }> => {
    const raw = await readBody(req);
    if (raw === 'too-large') return { status: 413, message: 'Request body too large' };
    const text = raw.toString('utf8');
    let body: any;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      return { status: 400, message: 'Request body is not valid JSON' };
    }
    rec.body = body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) return { status: 400, message: 'Request body must be a JSON object' };
    rec.promptText = userPrompt(body) ?? '';
    rec.imageParts = await imageParts(body);
    return { body };
  };

  /** Beyond maxInFlight: record what was asked, then 429 at once (no latency, no fault consumed). */
  const handleOverLimit = async (req: IncomingMessage, res: ServerResponse, rec: RecordedRequest, limit: number): Promise<void> => {
    await readChat(req, rec).catch(() => undefined);
    if (closed || res.destroyed) return;
    const retryAfter = config.maxInFlightRetryAfter;
    sendError(res, 429, `Too many requests in flight (limit ${limit}); retry after ${retryAfter} s`, { 'retry-after': retryAfter });
  };

  const handleChat = async (req: IncomingMessage, res: ServerResponse, rec: RecordedRequest): Promise<void> => {
    const read = await readChat(req, rec);
    if ('status' in read) return sendError(res, read.status, read.message);
    const { body } = read;

    const prompt = userPrompt(body);

    // Faults: the FIFO queue first, then persistent prompt faults.
    let fault: Fault | undefined = queue.shift();
    if (!fault && prompt !== undefined) fault = promptFaults.find(([sub]) => prompt.includes(sub))?.[1];
    fault ??= {};

    await sleep(config.latencyMs + (fault.delayMs ?? 0));
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
        answered(res, 200);
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
    const refs = rec.imageParts;
    const bad = refs.findIndex((p) => !p.decodes);
    if (bad >= 0) {
      const p = refs[bad]!;
      const where = `messages[${userMessage(body)!.index}].content[${p.index}]`;
      return sendError(res, 400, `image part ${bad + 1} does not decode (${where}, ${p.mime || 'no mime'}, ${p.bytes} bytes): ${p.error}`);
    }
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
        completion(model, { content: `I can only describe it in words: ${prompt.slice(0, 40)}` }, 'stop', 'STOP', prompt, replyCost(m, fault)),
      );
    }
    if (fault.textOnly) {
      return send(
        res,
        200,
        completion(
          model,
          { content: fault.message ?? "I can't generate that image." },
          'stop',
          fault.nativeFinishReason ?? 'IMAGE_SAFETY',
          prompt,
          replyCost(m, fault),
        ),
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
      const seed = imageSeed(prompt, refs.map((p) => p.sha256));
      const first = await image(seed, width, height, format);
      urls = [`data:${mime};base64,${first.toString('base64')}`];
      if (fault.duplicate) urls.push(urls[0]!);
      if (fault.twoDifferent) {
        const second = await image(`${seed}\u0000second`, width, height, format);
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
        replyCost(m, fault),
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
      promptText: '',
      imageParts: [],
    };
    requests.push(rec);
    recordOf.set(res, rec);

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
      // Taken synchronously on arrival: requests that arrive together see each other.
      const limit = config.maxInFlight;
      if (limit !== undefined && counters.inFlight >= limit) {
        counters.rejectedOverLimit++;
        rec.overLimit = true;
        return handleOverLimit(req, res, rec, limit);
      }
      counters.inFlight++;
      counters.peakInFlight = Math.max(counters.peakInFlight, counters.inFlight);
      let held = true;
      const release = (): void => {
        if (!held) return;
        held = false;
        counters.inFlight--;
      };
      releaseOf.set(res, release);
      res.once('close', release); // dropped, hung up by the client, or closed by close()
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
      config.latencyMs = ms;
    },
    setMaxInFlight(n: number | undefined) {
      config.maxInFlight = checkMaxInFlight(n);
    },
    configure(patch: Partial<GatewayConfig>) {
      if (Object.hasOwn(patch, 'maxInFlight')) config.maxInFlight = checkMaxInFlight(patch.maxInFlight);
      if (patch.latencyMs !== undefined) config.latencyMs = patch.latencyMs;
      if (patch.maxInFlightRetryAfter !== undefined) config.maxInFlightRetryAfter = patch.maxInFlightRetryAfter;
      if (Object.hasOwn(patch, 'cost')) config.cost = patch.cost;
      return { ...config };
    },
    stats() {
      return { ...counters };
    },
    reset() {
      requests.length = 0;
      queue.length = 0;
      promptFaults.length = 0;
      counters.peakInFlight = counters.inFlight;
      counters.rejectedOverLimit = 0;
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
