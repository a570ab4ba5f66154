import type { Metadata, Stats } from 'sharp';
import { GeneratedImagesError } from '../errors.js';
import { sha256 } from '../key.js';
import { expectedSize, ratioDeviation, RATIO_TOLERANCE, type ImageSize, type Ratio } from '../ratios.js';

/** The shape of a chat completion with image output, which the openai SDK's types do not know. */
export interface ImageChatCompletion {
  choices?: Array<{
    finish_reason?: string | null;
    native_finish_reason?: string | null;
    message?: {
      content?: string | null;
      refusal?: string | null;
      images?: Array<{ type?: string; image_url?: { url?: string } }> | null;
    } | null;
  }>;
  usage?: { cost?: number; total_tokens?: number } | null;
}

export type ImageMime = 'image/png' | 'image/jpeg' | 'image/webp';
const EXTENSIONS: Record<ImageMime, string> = { 'image/png': 'png', 'image/jpeg': 'jpeg', 'image/webp': 'webp' };

/** A validated image from the gateway, ready to be stored as it was received. */
export interface GenerationResult {
  data: Buffer;
  mime: ImageMime;
  extension: string;
  width: number;
  height: number;
  hasAlpha: boolean;
  color: string;
  modelText: string | null;
  cost: number | null;
}

/** `native_finish_reason`s that mean the model will not draw this prompt: asking again is billed and refused again. */
const REFUSALS = new Set(['IMAGE_SAFETY', 'PROHIBITED_CONTENT', 'IMAGE_PROHIBITED_CONTENT', 'RECITATION']);

/** A reply that is not a usable image: a failed attempt, never a cached file. */
const invalidReply = (message: string) => new GeneratedImagesError('INVALID_REPLY', message);

/** The real format, from the bytes: gateways mislabel JPEG and WebP as PNG. */
export function sniffMime(data: Uint8Array): ImageMime | undefined {
  if (data.length >= 8 && data[0] === 0x89 && data[1] === 0x50 && data[2] === 0x4e && data[3] === 0x47) return 'image/png';
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'image/jpeg';
  if (data.length >= 12 && Buffer.from(data.subarray(0, 4)).toString('latin1') === 'RIFF' && Buffer.from(data.subarray(8, 12)).toString('latin1') === 'WEBP') return 'image/webp';
  return undefined;
}

export function decodeDataUrl(url: string): { declared: string; data: Buffer } {
  const match = /^data:([^;,]*)((?:;[^;,]*)*),/i.exec(url.slice(0, 200));
  if (!match) throw invalidReply(`the image is not a data: URL (starts with ${JSON.stringify(url.slice(0, 30))})`);
  const declared = match[1]!.toLowerCase() || 'text/plain';
  if (!/;base64$/i.test(match[2]!)) throw invalidReply(`the image data URL (${declared}) is not base64-encoded`);
  if (!/^image\/(png|jpeg|jpg|webp)$/.test(declared)) {
    throw invalidReply(`the gateway returned ${declared}, which is not accepted: only PNG, JPEG and WebP images are`);
  }
  const payload = url.slice(match[0].length).replace(/\s+/g, '');
  if (payload === '' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(payload) || payload.length % 4 === 1) {
    throw invalidReply(`the ${declared} image is not valid base64`);
  }
  return { declared, data: Buffer.from(payload, 'base64') };
}

/**
 * Turns a chat completion into one checked image: decodable, a real PNG/JPEG/WebP
 * whatever the label says, and at the ratio asked for. Everything else is an
 * INVALID_REPLY error saying why, with the model's own words where it gave some.
 */
export async function parseReply(reply: ImageChatCompletion, expect: { ratio: Ratio; imageSize: ImageSize | null }): Promise<GenerationResult> {
  const choice = reply?.choices?.[0];
  const message = choice?.message;
  const modelText = (typeof message?.content === 'string' && message.content.trim()) || (typeof message?.refusal === 'string' && message.refusal.trim()) || null;
  const images = Array.isArray(message?.images) ? message.images : [];
  const urls = images.map((image) => image?.image_url?.url).filter((url): url is string => typeof url === 'string' && url !== '');
  if (urls.length === 0) {
    const reason = choice?.native_finish_reason ?? choice?.finish_reason ?? 'none given';
    const said = `the reply has no image (finish reason: ${reason})${modelText ? `; the model said: ${JSON.stringify(modelText.slice(0, 300))}` : ''}`;
    if (REFUSALS.has(String(choice?.native_finish_reason).toUpperCase())) {
      throw new GeneratedImagesError('REFUSED', `${said}. A refusal, not retried: a retry would be billed and refused again`, {
        hint: 'change the prompt (or the style option) and build again',
      });
    }
    throw invalidReply(said);
  }
  // Models sometimes return the same picture twice; the first one is the image.
  const seen = new Set<string>();
  let firstError: Error | undefined;
  for (const url of urls) {
    try {
      const { declared, data } = decodeDataUrl(url);
      const hash = sha256(data);
      if (seen.has(hash)) continue;
      seen.add(hash);
      return await checkImage(data, declared, expect, modelText, reply.usage?.cost ?? null);
    } catch (error) {
      firstError ??= error as Error;
    }
  }
  throw firstError!;
}

export async function checkImage(data: Buffer, declared: string, expect: { ratio: Ratio; imageSize: ImageSize | null }, modelText: string | null, cost: number | null): Promise<GenerationResult> {
  const mime = sniffMime(data);
  if (!mime) throw invalidReply(`the ${declared} image does not decode: its bytes are not a PNG, JPEG or WebP`);
  let stats: Stats;
  let meta: Metadata;
  // Loaded here, not at the top: a build from a complete cache never checks a reply and need not pay for loading sharp.
  const { default: sharp } = await import('sharp');
  try {
    const image = sharp(data, { failOn: 'error' });
    meta = await image.metadata();
    stats = await image.stats();
  } catch (error) {
    const message = (error as Error).message;
    if (/pixel limit/i.test(message)) throw invalidReply(`the image is too large to process safely (${message})`);
    throw invalidReply(`the ${mime} image does not decode (${message})`);
  }
  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  if (!width || !height) throw invalidReply('the image has no dimensions');
  const deviation = ratioDeviation(expect.ratio, width, height);
  if (deviation > RATIO_TOLERANCE) {
    const size = expectedSize(expect.ratio, expect.imageSize);
    throw invalidReply(`the image is ${width}×${height}, ${(deviation * 100).toFixed(1)}% off the ${expect.ratio} ratio (expected ${size.width}×${size.height}); the gateway or model may ignore image_config.aspect_ratio`);
  }
  const { r, g, b } = stats.dominant;
  const color = `#${[r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('')}`;
  return { data, mime, extension: EXTENSIONS[mime], width, height, hasAlpha: !stats.isOpaque, color, modelText, cost };
}
