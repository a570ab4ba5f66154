/**
 * What a Markdown usage becomes in Astro's rendered Markdown: a small element
 * carrying the usage's literal props, resolved into `<picture>` markup only
 * when a page is served or prerendered. Astro keeps rendered Markdown in its
 * content store between runs, so the store holds this marker — never a URL
 * that depends on `base` or a dev placeholder.
 *
 * The payload is base64url JSON: no character in it needs escaping in HTML,
 * so every HTML serializer writes the marker exactly as made here.
 */
export const MARKER_TAG = 'astro-generated-image';
export const MARKER_ATTRIBUTE = 'data-usage';
const OPEN = `<${MARKER_TAG} ${MARKER_ATTRIBUTE}="`;
const CLOSE = `"></${MARKER_TAG}>`;

export interface MarkerUsage {
  /** The component's props, as literals from the Markdown source. */
  props: Record<string, unknown>;
  /** `file:line:column` of the tag in its Markdown file. */
  at: string;
}

export function encodeMarker(usage: MarkerUsage): string {
  return Buffer.from(JSON.stringify(usage)).toString('base64url');
}

export function markerHtml(usage: MarkerUsage): string {
  return `${OPEN}${encodeMarker(usage)}${CLOSE}`;
}

function decodeMarker(payload: string): MarkerUsage | undefined {
  try {
    const value = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as MarkerUsage;
    return value && typeof value.props === 'object' && typeof value.at === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** How much of `text`'s end may be the start of a marker whose rest is still to come. */
function heldBack(text: string): number {
  for (let n = Math.min(OPEN.length - 1, text.length); n > 0; n--) {
    if (OPEN.startsWith(text.slice(-n))) return n;
  }
  return 0;
}

/**
 * A stream of an HTML page with every marker replaced by `render`'s markup,
 * chunk by chunk: bytes before a marker go out as they arrive, so a
 * streaming page keeps streaming and a page without markers is passed on as
 * it comes, one chunk at a time.
 */
export function replaceMarkers(body: ReadableStream<Uint8Array>, render: (usage: MarkerUsage) => Promise<string>): ReadableStream<Uint8Array> {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let pending = '';

  const flush = async (controller: TransformStreamDefaultController<Uint8Array>, final: boolean) => {
    for (;;) {
      const start = pending.indexOf(OPEN);
      if (start < 0) break;
      const end = pending.indexOf(CLOSE, start + OPEN.length);
      if (end < 0) {
        // The marker's end has not arrived yet: send what precedes it and wait.
        if (start > 0) controller.enqueue(encoder.encode(pending.slice(0, start)));
        pending = pending.slice(start);
        if (!final) return;
        break;
      }
      const usage = decodeMarker(pending.slice(start + OPEN.length, end));
      if (start > 0) controller.enqueue(encoder.encode(pending.slice(0, start)));
      const markup = usage ? await render(usage) : pending.slice(start, end + CLOSE.length);
      controller.enqueue(encoder.encode(markup));
      pending = pending.slice(end + CLOSE.length);
    }
    const keep = final ? 0 : heldBack(pending);
    if (pending.length > keep) controller.enqueue(encoder.encode(pending.slice(0, pending.length - keep)));
    pending = pending.slice(pending.length - keep);
  };

  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      async transform(chunk, controller) {
        pending += decoder.decode(chunk, { stream: true });
        await flush(controller, false);
      },
      async flush(controller) {
        pending += decoder.decode();
        await flush(controller, true);
      },
    }),
  );
}
