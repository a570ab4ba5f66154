import type OpenAI from 'openai';
import type { APIConnectionError, APIError } from 'openai';
import { GeneratedImagesError, isError } from '../errors.js';
import type { ImageSize, Ratio } from '../ratios.js';
import { parseReply, type GenerationResult, type ImageChatCompletion } from './reply.js';
import type { RequestOutcome, RequestSlots } from './slots.js';

/** Output tokens a single image needs (~1,300 on Gemini image models) with headroom, so the gateway does not reserve a whole context window of credit. */
export const MAX_TOKENS = 4096;

export interface GenerationRequest {
  /** The text sent: the prompt with the site-wide style appended. */
  prompt: string;
  ratio: Ratio;
  imageSize: ImageSize | null;
  /** Image inputs, sent before the text as `data:` URLs (already checked and downscaled). */
  references?: string[];
}

export interface GatewayOptions {
  apiKey: string;
  baseURL: string;
  model: string;
  /** Attempts after the first. */
  retries: number;
  /** Milliseconds per request. */
  timeout: number;
  /** First backoff step in milliseconds (doubles per attempt) when the gateway gives no Retry-After. */
  backoffMs?: number;
  /** Admission of each attempt (`concurrency: 'auto'`); without it every attempt starts at once. */
  slots?: RequestSlots;
  /** Called before each retry, for progress output. */
  onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
}

/** The SDK takes ~100 ms to load: a build from a complete cache never calls the gateway, so it loads on first use. */
let sdk: typeof import('openai') | undefined;
const isAPIError = (error: unknown): error is APIError => !!sdk && error instanceof sdk.APIError;
const isConnectionError = (error: unknown): error is APIConnectionError => !!sdk && error instanceof sdk.APIConnectionError;

export interface ModelCheck {
  warning?: string;
  /** US dollars per image from the model's `pricing.image`; null when the gateway gives none. */
  pricePerImage: number | null;
}

/** A generation that will not succeed by trying again (or that ran out of attempts). */
const gatewayError = (message: string, status?: number) => new GeneratedImagesError('GATEWAY', message, { status });

interface ModelInfo {
  id: string;
  architecture?: { output_modalities?: string[] };
  output_modalities?: string[];
  pricing?: { image?: unknown };
}

/** OpenRouter-style `pricing.image`: USD per image, as a string (a number is taken too). */
function imagePrice(model: ModelInfo | undefined): number | null {
  const value = model?.pricing?.image;
  const price = typeof value === 'string' && value.trim() !== '' ? Number(value) : typeof value === 'number' ? value : NaN;
  return Number.isFinite(price) && price >= 0 ? price : null;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });

/** Never let the token reach a message: gateways sometimes echo the Authorization header back. */
export function redact(text: string, secret: string | null | undefined): string {
  if (!secret || secret.length < 4) return text;
  return text.split(secret).join('[redacted]');
}

const FATAL_HINTS: Record<number, string> = {
  400: 'the gateway rejected the request',
  401: 'the API key was refused: check AGNIC_API_KEY (or the apiKey option)',
  402: 'the gateway says your credit or spending limit is exhausted: top up or raise the limit, then build again (images generated so far are kept)',
  403: 'the API key is not allowed to use this model or endpoint',
  404: 'the gateway does not know this endpoint or model: check baseURL and model',
};

/** Milliseconds to wait as the gateway asks (`Retry-After` in seconds or as a date, or `retry-after-ms`). */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  const ms = headers?.get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Math.max(0, Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The gateway client: one typed wrapper around the openai SDK for image
 * output, and the one place that retries (the SDK's own retries are off, so
 * the two never multiply).
 */
export class Gateway {
  private client: OpenAI | undefined;
  private readonly options: GatewayOptions;

  constructor(options: GatewayOptions) {
    this.options = options;
  }

  private async sdkClient(): Promise<OpenAI> {
    sdk ??= await import('openai');
    this.client ??= new sdk.default({ apiKey: this.options.apiKey, baseURL: this.options.baseURL, maxRetries: 0, timeout: this.options.timeout });
    return this.client;
  }

  /** The chat completion call with image output, typed for what image gateways return. */
  private async requestImage(request: GenerationRequest, signal?: AbortSignal): Promise<ImageChatCompletion> {
    const body = {
      model: this.options.model,
      // Image inputs go before the text, as the seed's "Image Inputs" shows; without any, the plain string as before.
      messages: [{
        role: 'user' as const,
        content: request.references?.length
          ? [...request.references.map((url) => ({ type: 'image_url', image_url: { url } })), { type: 'text', text: request.prompt }]
          : request.prompt,
      }],
      modalities: ['image', 'text'],
      image_config: { aspect_ratio: request.ratio, ...(request.imageSize ? { image_size: request.imageSize } : {}) },
      max_tokens: MAX_TOKENS,
    };
    const client = await this.sdkClient();
    const reply: unknown = await client.chat.completions.create(body as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming, { signal });
    return reply as ImageChatCompletion;
  }

  /**
   * Confirms the model outputs images. OpenRouter-style gateways list only
   * text models unless asked, so a model missing from the list is a warning;
   * a listed model without "image" is an error naming models that have it.
   */
  async checkModel(): Promise<ModelCheck> {
    let models: ModelInfo[];
    const client = await this.sdkClient();
    try {
      const page = await client.get<{ data?: ModelInfo[] }>('/models', { query: { output_modalities: 'all' }, timeout: Math.min(this.options.timeout, 30_000) });
      models = Array.isArray(page?.data) ? page.data : [];
    } catch (error) {
      if (isAPIError(error) && error.status !== undefined && [401, 402, 403].includes(error.status)) throw this.fatal(error);
      return { warning: `could not list the gateway's models (${this.describe(error)}); trying ${this.options.model} anyway`, pricePerImage: null };
    }
    const outputs = (m: ModelInfo) => m.architecture?.output_modalities ?? m.output_modalities ?? [];
    const model = models.find((m) => m.id === this.options.model);
    if (!model) {
      return { warning: `the gateway's model list does not include ${this.options.model}; trying it anyway`, pricePerImage: null };
    }
    if (!outputs(model).includes('image')) {
      const imageModels = models.filter((m) => outputs(m).includes('image')).map((m) => m.id);
      throw gatewayError(
        `the model ${this.options.model} does not output images (its output_modalities: ${JSON.stringify(outputs(model))}). ` +
          (imageModels.length ? `Models that do: ${imageModels.slice(0, 10).join(', ')}` : 'The gateway lists no model with image output.') +
          '. Set the model option to one of them.',
      );
    }
    return { pricePerImage: imagePrice(model) };
  }

  /** Generates one image, retrying 429, 5xx, timeouts, dropped connections and unusable replies with backoff. */
  async generate(request: GenerationRequest, signal?: AbortSignal): Promise<GenerationResult & { attempts: number }> {
    const attempts = this.options.retries + 1;
    const backoff = this.options.backoffMs ?? 1000;
    let lastReason = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      signal?.throwIfAborted();
      let delay: number | undefined;
      const release = (await this.options.slots?.acquire(signal)) ?? (() => {});
      let outcome: RequestOutcome = { kind: 'failed' };
      try {
        const reply = await this.requestImage(request, signal);
        outcome = { kind: 'ok' };
        release(outcome);
        const result = await parseReply(reply, request);
        // The model's text goes into the committed manifest: a gateway that echoes the token must not put it there.
        return { ...result, modelText: result.modelText && redact(result.modelText, this.options.apiKey), attempts: attempt };
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (isAPIError(error) && error.status !== undefined && !this.retryable(error.status)) throw this.fatal(error);
        if (!(isAPIError(error) || isConnectionError(error) || isError(error, 'INVALID_REPLY') || error instanceof SyntaxError)) throw error;
        lastReason = this.describe(error);
        if (isAPIError(error)) delay = retryAfterMs(error.headers);
        if (isAPIError(error) && error.status === 429) outcome = { kind: 'throttled', retryAfterMs: delay };
      } finally {
        release(outcome);
      }
      if (attempt === attempts) break;
      // Exponential backoff with jitter unless the gateway said when; never more than a minute.
      const wait = Math.min(60_000, delay ?? backoff * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5));
      this.options.onRetry?.({ attempt, delayMs: wait, reason: lastReason });
      await sleep(wait, signal);
    }
    throw gatewayError(`gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${lastReason}`);
  }

  private retryable(status: number): boolean {
    return status === 408 || status === 409 || status === 429 || status >= 500;
  }

  private fatal(error: APIError): GeneratedImagesError {
    const status = error.status ?? 0;
    const hint = FATAL_HINTS[status] ?? 'the gateway refused the request';
    return gatewayError(`${hint} (HTTP ${status}: ${redact(gatewayMessage(error), this.options.apiKey)})`, status);
  }

  private describe(error: unknown): string {
    if (isAPIError(error) && error.status !== undefined) return `HTTP ${error.status}: ${redact(gatewayMessage(error), this.options.apiKey)}`;
    if (isConnectionError(error)) {
      const timedOut = error.constructor.name.includes('Timeout') || /timed? ?out/i.test(error.message);
      // Name the gateway: a wrong baseURL shows up here, and it never carries credentials (options.ts refuses them).
      return timedOut
        ? `no answer from ${this.options.baseURL} within ${this.options.timeout} ms`
        : `could not connect to ${this.options.baseURL} (${redact(causeMessage(error), this.options.apiKey)}): check baseURL (or AGNIC_BASE_URL) and the network`;
    }
    if (error instanceof SyntaxError) return `the reply is not valid JSON (${redact(error.message, this.options.apiKey).slice(0, 100)})`;
    return redact((error as Error).message, this.options.apiKey);
  }
}

function gatewayMessage(error: APIError): string {
  const body = error.error as { message?: unknown } | undefined;
  if (body && typeof body.message === 'string' && body.message) return body.message;
  return error.message.replace(/^\d{3}\s+/, '') || 'no message';
}

function causeMessage(error: Error): string {
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    const inner = causeMessage(cause);
    return code && !inner.includes(code) ? `${code}: ${inner}` : inner;
  }
  return error.message;
}
