// The stream that resolves Markdown's markers while an Astro page streams out
// (packages/astro-integration/src/marker.ts): every split of a page into chunks
// gives the same page, and what precedes a marker is sent before it is resolved.

import { describe, expect, it } from 'vitest';
import { markerHtml, replaceMarkers, type MarkerUsage } from '../../packages/astro-integration/dist/marker.js';

const usage = (prompt: string): MarkerUsage => ({ props: { prompt, alt: '' }, at: 'src/pages/a.md:3:1' });
const page = `<!doctype html><p>before</p>${markerHtml(usage('A boat'))}<p>between, ünïcode</p>${markerHtml(usage('A hill'))}<p>after</p>`;
const render = async (u: MarkerUsage) => `<picture data-prompt="${String(u.props.prompt)}"></picture>`;
const expected = '<!doctype html><p>before</p><picture data-prompt="A boat"></picture><p>between, ünïcode</p><picture data-prompt="A hill"></picture><p>after</p>';

function chunked(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, (at += size)));
    },
  });
}

describe('replaceMarkers', () => {
  it('gives the same page for every chunk size, markers and multi-byte characters split anywhere', async () => {
    const bytes = new TextEncoder().encode(page);
    for (let size = 1; size <= bytes.length; size += size < 40 ? 1 : 17) {
      expect(await new Response(replaceMarkers(chunked(bytes, size), render)).text(), `chunks of ${size}`).toBe(expected);
    }
  });

  it('passes a page without markers through unchanged, and leaves text that only looks like a marker alone', async () => {
    const html = '<p>&lt;astro-generated-image data-usage="x"&gt;</p><astro-generated-image data-usage="not base64 json"></astro-generated-image>';
    expect(await new Response(replaceMarkers(chunked(new TextEncoder().encode(html), 7), render)).text()).toBe(html);
  });

  it('sends what precedes a marker before the marker is resolved', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const stream = replaceMarkers(chunked(new TextEncoder().encode(page), 8192), async (u) => {
      await held;
      return render(u);
    });
    const reader = stream.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toBe('<!doctype html><p>before</p>');
    release();
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value);
    expect(first + rest).toBe(expected);
  });
});
