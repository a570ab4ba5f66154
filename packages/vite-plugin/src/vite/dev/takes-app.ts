/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The takes page's script, in the browser. It lists the site's images with
 * their takes side by side, asks for another take, and keeps one. Opened from
 * a page (a placeholder's link, which keeps that page as its opener, or the
 * Astro toolbar's frame), it reads the images that page shows and lists them
 * first. Built from DOM nodes, never from HTML strings: prompts are user text.
 */
import type { DataImageView, TakesData, TakeView, UsageRef, UsageView } from './takes-data.js';

const api = new URL('.', import.meta.url).href.replace(/\/$/, '');
const list = document.getElementById('list')!;
const messages = document.getElementById('messages')!;
const context = document.getElementById('context')!;

/** A variant file's name starts with its key. */
const VARIANT_KEY = /@generated-images\/([0-9a-f]{16})-\d+-[0-9a-f]{8}\./g;

/** The page this one was opened from, when it is one of the dev server's (same origin). */
function hostWindow(): Window | undefined {
  for (const candidate of [window.parent !== window ? window.parent : null, window.opener as Window | null]) {
    try {
      if (candidate?.document) return candidate;
    } catch {
      // Another origin: not a page of this site.
    }
  }
  return undefined;
}

/** Every image the host page shows, seen so far: it reloads when a take is kept, and the old take still counts as its image. */
const pageKeys = new Set<string>();
function readPageKeys(host: Window): void {
  try {
    for (const picture of host.document.querySelectorAll('picture[data-generated-image-key]')) pageKeys.add(picture.getAttribute('data-generated-image-key')!);
    for (const element of host.document.querySelectorAll('picture source, picture img')) {
      const urls = `${element.getAttribute('srcset') ?? ''} ${element.getAttribute('src') ?? ''}`;
      for (const match of urls.matchAll(VARIANT_KEY)) pageKeys.add(match[1]!);
    }
  } catch {
    // The host page is being replaced; the keys seen so far stand.
  }
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function say(text: string, kind: 'ok' | 'error' | 'warn', hint?: string): void {
  messages.replaceChildren(element('div', { class: `banner ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text, ...(hint ? [element('br'), hint] : [])));
}

function money(cost: number | null, estimate: boolean): string {
  if (cost === null) return 'cost unknown';
  const text = `$${cost.toFixed(cost < 0.01 ? 4 : 3).replace(/0+$/, '').replace(/\.$/, '.00')}`;
  return estimate ? `≈ ${text}` : text;
}

async function post(path: string, body: unknown): Promise<{ ok: boolean; data: { error?: string; hint?: string; location?: string; variant?: number } }> {
  const response = await fetch(`${api}/${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { ok: response.ok, data: await response.json().catch(() => ({ error: `HTTP ${response.status}` })) };
}

const ref = (usage: UsageView): UsageRef => ({ file: usage.file, start: usage.start, hash: usage.hash });

function takeFigure(take: TakeView, usage?: UsageView): HTMLElement {
  const current = usage?.variant === take.variant;
  const figure = element('figure', { 'data-take': String(take.variant), 'data-key': take.key, 'data-state': take.state });
  if (current) figure.setAttribute('data-current', '');
  if (take.image) {
    const img = element('img', { src: take.image.src, width: String(take.image.width), height: String(take.image.height), alt: `variant ${take.variant}`, sizes: '220px' });
    if (take.image.srcset) img.setAttribute('srcset', take.image.srcset);
    figure.append(img);
  } else {
    const text = take.state === 'generating' ? 'Generating…' : take.state === 'failed' ? `Failed: ${take.reason ?? ''}` : (take.reason ?? 'Not in the cache');
    figure.append(element('div', { class: 'box' }, text));
  }
  const caption = element('figcaption', {}, `variant ${take.variant}`, element('span', { class: 'cost' }, money(take.cost, take.estimate)));
  if (current) caption.append(element('span', { class: 'kept' }, 'in source'));
  else if (usage && take.state === 'ready') {
    const keep = element('button', { type: 'button', class: 'keep' }, 'Keep');
    keep.addEventListener('click', () => void keepTake(usage, take.variant));
    caption.append(keep);
  }
  figure.append(caption);
  return figure;
}

function usageCard(usage: UsageView, data: TakesData): HTMLElement {
  const card = element('section', { class: 'usage', 'data-usage': `${usage.file}:${usage.start}` },
    element('div', { class: 'prompt' }, usage.prompt),
    element('div', { class: 'meta' }, `${usage.ratio} · ${usage.location} · variant ${usage.variant}`),
    element('div', { class: 'takes' }, ...usage.takes.map((take) => takeFigure(take, usage))),
  );
  const another = element('button', { type: 'button', class: 'another' }, `Another take (${money(data.price, data.price !== null)})`);
  if (data.cannotGenerate) {
    another.disabled = true;
    another.title = data.cannotGenerate;
  } else another.addEventListener('click', () => void anotherTake(usage, another));
  card.append(another);
  return card;
}

function dataCard(image: DataImageView): HTMLElement {
  return element('section', { class: 'usage', 'data-key': image.take.key },
    element('div', { class: 'prompt' }, image.prompt),
    element('div', { class: 'meta' }, `${image.ratio} · prompt from data, not a literal in source: set its variant where the prompt comes from · variant ${image.take.variant}`),
    element('div', { class: 'takes' }, takeFigure(image.take)),
  );
}

let poll: ReturnType<typeof setTimeout> | undefined;

function draw(data: TakesData, host: Window | undefined): void {
  const onPage = (usage: UsageView) => usage.takes.some((take) => pageKeys.has(take.key));
  const sections: Array<[string, HTMLElement[]]> = [];
  if (host) {
    const path = host.location.pathname;
    sections.push([`On this page (${path})`, [...data.usages.filter(onPage).map((u) => usageCard(u, data)), ...data.fromData.map(dataCard)]]);
    sections.push(['Elsewhere on the site', data.usages.filter((u) => !onPage(u)).map((u) => usageCard(u, data))]);
  } else sections.push(['Every image on the site', data.usages.map((u) => usageCard(u, data))]);
  list.replaceChildren(...sections.flatMap(([title, cards]) => [element('h2', {}, title), ...(cards.length ? cards : [element('p', { class: 'note' }, 'None.')])]));
  if (data.problems.length) list.append(element('h2', {}, 'Usages that could not be read'), ...data.problems.map((p) => element('p', { class: 'note' }, p)));
  const count = data.usages.length;
  context.textContent = `${count} image${count === 1 ? '' : 's'} with a literal prompt. ${data.cannotGenerate ? `No new take can be made: ${data.cannotGenerate}.` : 'Another take generates the next variant of a prompt; Keep writes its variant into the source.'}`;
  // While a take generates, look again shortly; otherwise the list stands until something is done.
  const busy = data.usages.some((u) => u.takes.some((t) => t.state === 'generating'));
  clearTimeout(poll);
  if (busy) poll = setTimeout(() => void refresh(), 700);
}

async function refresh(): Promise<void> {
  const host = hostWindow();
  if (host) readPageKeys(host);
  const response = await fetch(`${api}/data?keys=${[...pageKeys].join(',')}`);
  if (!response.ok) {
    say(`The dev server answered HTTP ${response.status}.`, 'error');
    return;
  }
  draw((await response.json()) as TakesData, host);
}

async function anotherTake(usage: UsageView, button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  const { ok, data } = await post('another', ref(usage));
  if (!ok) say(data.error ?? 'No take could be made.', 'error', data.hint);
  await refresh();
}

async function keepTake(usage: UsageView, variant: number): Promise<void> {
  const { ok, data } = await post('keep', { ...ref(usage), variant });
  if (ok) say(`Kept variant ${variant}: ${data.location} now says so.`, 'ok');
  else say(data.error ?? 'The take could not be kept.', 'error', data.hint);
  await refresh();
}

void refresh();
