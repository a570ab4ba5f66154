import { promises as fs } from 'node:fs';
import path from 'node:path';
import { HEIGHT, WIDTH, type Original } from './originals.ts';

export interface ImageSettings {
  formats: Array<'avif' | 'webp'>;
  widths: number[];
}

/** Pictures per page: a gallery or blog index of ten cards. */
const PER_PAGE = 10;
/** Script modules of the site's own code, shared by every page. */
const MODULES = 40;

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

function page(title: string, pages: number, cards: string[]): string {
  const nav = Array.from({ length: pages }, (_, p) => `<a href="/${pageFile(p)}">Page ${p + 1}</a>`).join(' ');
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1.0" />
    <title>${title}</title>
    <link rel="stylesheet" href="/src/style.css" />
  </head>
  <body>
    <header><nav>${nav}</nav></header>
    <main class="grid">
${cards.join('\n')}
    </main>
    <footer><p>Photographs of hills in evening light.</p></footer>
    <script type="module" src="/src/main.js"></script>
  </body>
</html>
`;
}

const pageFile = (p: number) => (p === 0 ? 'index.html' : `page-${p}.html`);

const card = (index: number, image: string) => `      <article class="card" data-id="${index}">
        ${image}
        <h2>Photograph ${index}</h2>
        <p>Hills under a clear sky in soft evening light, number ${index} of the series.</p>
      </article>`;

/** One module of ordinary front-end code: a small component with state, formatting and DOM work. */
function module(n: number): string {
  const imports = n > 0 ? `import { format${n - 1} } from './module-${n - 1}.js';\n` : '';
  return `${imports}const labels${n} = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];

export function format${n}(value, options = {}) {
  const { precision = 2, unit = 'px', locale = 'en' } = options;
  const number = Number(value);
  if (!Number.isFinite(number)) return ${n > 0 ? `format${n - 1}(0, options)` : "'0'"};
  return new Intl.NumberFormat(locale, { maximumFractionDigits: precision }).format(number) + unit;
}

export class Widget${n} {
  #state = { open: false, count: 0, items: [] };
  #listeners = new Set();

  constructor(root) {
    this.root = root;
    this.root?.addEventListener('click', (event) => this.toggle(event));
  }

  toggle(event) {
    this.#state = { ...this.#state, open: !this.#state.open, count: this.#state.count + 1 };
    for (const listener of this.#listeners) listener(this.#state, event);
    this.render();
  }

  subscribe(listener) {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  render() {
    if (!this.root) return;
    const { open, count } = this.#state;
    this.root.classList.toggle('is-open-${n}', open);
    this.root.dataset.count = String(count);
    this.root.setAttribute('aria-label', labels${n}[count % labels${n}.length] + ' ' + format${n}(count * ${n + 1}));
  }
}

export function setup${n}(document) {
  const widgets = [...document.querySelectorAll('[data-widget="${n}"]')].map((element) => new Widget${n}(element));
  return widgets.map((widget) => widget.subscribe((state) => state.count > ${n + 3} && console.debug('widget ${n}', state)));
}
`;
}

/** What the plugin and the plain site have in common: pages, styles and the site's own scripts. */
async function common(dir: string, cardsPerPage: string[][]): Promise<string[]> {
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(path.join(dir, 'src', 'app'), { recursive: true });
  await fs.writeFile(path.join(dir, 'package.json'), `${JSON.stringify({ name: path.basename(dir), private: true, type: 'module' }, null, 2)}\n`);
  const css = Array.from({ length: 60 }, (_, i) => `.card[data-id="${i}"] h2 { color: hsl(${(i * 37) % 360} 40% 30%); }\n.is-open-${i} { outline: 2px solid hsl(${(i * 37) % 360} 60% 50%); }`).join('\n');
  await fs.writeFile(path.join(dir, 'src', 'style.css'), `.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 1rem; }\n.card img { width: 100%; height: auto; }\n${css}\n`);
  for (let n = 0; n < MODULES; n++) await fs.writeFile(path.join(dir, 'src', 'app', `module-${n}.js`), module(n));
  const imports = Array.from({ length: MODULES }, (_, n) => `import { setup${n} } from './app/module-${n}.js';`).join('\n');
  await fs.writeFile(path.join(dir, 'src', 'main.js'), `${imports}\n\n${Array.from({ length: MODULES }, (_, n) => `setup${n}(document);`).join('\n')}\n`);
  const pages = cardsPerPage.map((_, p) => pageFile(p));
  for (const [p, cards] of cardsPerPage.entries()) await fs.writeFile(path.join(dir, pages[p]!), page(`Photographs, page ${p + 1}`, pages.length, cards));
  return pages;
}

function paginate(cards: string[]): string[][] {
  const pages: string[][] = [];
  for (let i = 0; i < cards.length; i += PER_PAGE) pages.push(cards.slice(i, i + PER_PAGE));
  return pages;
}

const input = (pages: string[]) => JSON.stringify(Object.fromEntries(pages.map((p) => [p.replace(/\.html$/, ''), p])));

/**
 * A multi-page site with the plugin: ten `<GeneratedImage>` cards a page, a
 * few dozen script modules and a stylesheet; the cache folder is added by the caller.
 */
export async function writeViteSite(dir: string, images: Original[], settings: ImageSettings): Promise<void> {
  const cards = images.map((image) =>
    card(image.index, `<GeneratedImage prompt="${escape(image.prompt)}" ratio="16:9" alt="Photograph ${image.index}" sizes="(min-width: 1024px) 33vw, 100vw" />`),
  );
  const pages = await common(dir, paginate(cards));
  await fs.writeFile(
    path.join(dir, 'vite.config.js'),
    `import { defineConfig } from 'vite';
import generatedImages from 'vite-plugin-generated-images';

export default defineConfig({
  build: { rolldownOptions: { input: ${input(pages)} } },
  plugins: [generatedImages(${JSON.stringify({ formats: settings.formats, widths: settings.widths })})],
});
`,
  );
}

/**
 * The same site without the plugin: plain `<img>` tags showing the same
 * pictures, with no image work at all. `assets`: the pictures under src/,
 * which Vite fingerprints and copies (the usual way to reference images from
 * HTML); `public`: under public/, copied as they are.
 */
export async function writePlainSite(dir: string, images: Original[], where: 'assets' | 'public'): Promise<void> {
  const url = where === 'assets' ? '/src/images' : '/images';
  const cards = images.map((image) =>
    card(image.index, `<img src="${url}/${image.index}.png" width="${WIDTH}" height="${HEIGHT}" alt="Photograph ${image.index}" loading="lazy" decoding="async" />`),
  );
  const pages = await common(dir, paginate(cards));
  const folder = path.join(dir, where === 'assets' ? 'src' : 'public', 'images');
  await fs.mkdir(folder, { recursive: true });
  for (const image of images) await fs.copyFile(image.file, path.join(folder, `${image.index}.png`));
  await fs.writeFile(path.join(dir, 'vite.config.js'), `import { defineConfig } from 'vite';\n\nexport default defineConfig({\n  build: { rolldownOptions: { input: ${input(pages)} } },\n});\n`);
}

/** A fresh clone of a site: its committed files only, in a new folder (no dist, no node_modules/.cache). */
export async function freshClone(template: string, dir: string): Promise<string> {
  await fs.rm(dir, { recursive: true, force: true });
  await fs.cp(template, dir, {
    recursive: true,
    filter: (source) => {
      const name = path.basename(source);
      return name !== 'dist' && name !== 'node_modules' && name !== '.astro' && !name.startsWith('.lock');
    },
  });
  return dir;
}
