import { promises as fs } from 'node:fs';
import path from 'node:path';
import { GeneratedImagesError } from '../../core/errors.js';
import { normalizePrompt, sha256 } from '../../core/key.js';
import { relativeLocation } from '../../core/location.js';
import type { ImagePlan } from '../../core/optimize/plan.js';
import type { ImagePipeline } from '../../core/pipeline.js';
import { oneLine } from '../../core/text.js';
import { scanProject } from '../../sources/scan.js';
import { findUsages, type Usage } from '../../sources/usage.js';
import { setVariant } from '../../sources/variant.js';
import type { DevRenderer } from './renderer.js';
import type { DataImageView, KeepRequest, TakesData, TakeView, UsageRef, UsageView } from './takes-data.js';

/** A source file with usages, and the usages read from that very text (so that its hash names what the page saw). */
interface SourceFile {
  file: string;
  hash: string;
  text: string;
  usages: Usage[];
}

const refused = (message: string, hint?: string) => new GeneratedImagesError('TAKE_REFUSED', message, { hint });

/** Which prompt an image is of, whatever its variant (the key then tells style, model and references apart). */
const promptId = (image: { prompt: string; ratio: string }) => JSON.stringify([normalizePrompt(image.prompt), image.ratio]);

/**
 * A take of a usage: its default image at another variant. Art direction is
 * left out, so that a take costs one image; a kept take's art-direction images
 * are made when the page shows it.
 */
const take = (usage: Usage, variant: number): Usage => ({ ...usage, variant, art: undefined });

/**
 * The dev server's takes: every literal usage of the site with the takes of
 * its prompt that the cache holds (the `variant`s of the same prompt, ratio,
 * style and model), another take generated through the same renderer and
 * queue as any image, and one kept by writing its `variant` into the usage's
 * own source. Takes not kept stay in the cache until `prune`.
 */
export class Takes {
  /** Variants asked for from the page, by the key of the prompt's first take: listed while they generate. */
  private readonly asked = new Map<string, Set<number>>();
  private price: Promise<number | null> | undefined;

  constructor(
    private readonly pipeline: ImagePipeline,
    private readonly renderer: DevRenderer,
    /** Folders the scan skips (the cache, the build output). */
    private readonly exclude: string[],
    /** A cache file's URL on the dev server. */
    private readonly url: (name: string) => string,
  ) {}

  private get root(): string {
    return this.pipeline.options.root;
  }

  private relative(file: string): string {
    return path.relative(this.root, file).split(path.sep).join('/');
  }

  /** The site's files with usages. Prompts from expressions are left to the page (`fromData`): only literals can be kept. */
  private async sources(): Promise<{ files: SourceFile[]; problems: string[] }> {
    const scan = await scanProject({ root: this.root, include: this.pipeline.options.include, exclude: this.exclude, allowDynamicPrompt: true });
    const files: SourceFile[] = [];
    for (const file of new Set(scan.usages.map((usage) => usage.loc.file))) {
      const text = await fs.readFile(file, 'utf8').catch(() => undefined);
      if (text !== undefined) files.push({ file, text, hash: sha256(text), usages: findUsages(text, file, { allowDynamicPrompt: true }).usages });
    }
    return { files, problems: scan.errors.map((error) => `${relativeLocation(error.loc, this.root)}: ${error.reason}`) };
  }

  /** The gateway's price per image (from the `/models` check the queue makes anyway), asked only where images may be generated. */
  private pricePerImage(): Promise<number | null> {
    this.price ??= this.renderer.cannotGenerate ? Promise.resolve(null) : this.pipeline.estimate(1).then((estimate) => estimate?.pricePerImage ?? null, () => null);
    return this.price;
  }

  /** The variants in the cache of each prompt and ratio. */
  private cachedVariants(): Map<string, Set<number>> {
    const byPrompt = new Map<string, Set<number>>();
    for (const entry of Object.values(this.pipeline.cache.images)) {
      const id = promptId(entry);
      if (!byPrompt.has(id)) byPrompt.set(id, new Set());
      byPrompt.get(id)!.add(entry.variant);
    }
    return byPrompt;
  }

  private variantsOf(usage: Usage, cached: Map<string, Set<number>>): number[] {
    // An entry of the same prompt under another style, model or references is not a take of this usage: its key says so.
    const found = [...(cached.get(promptId(usage)) ?? [])].filter((variant) => this.pipeline.cache.get(this.pipeline.key({ ...usage, variant })));
    return [...new Set([usage.variant, ...found, ...(this.asked.get(this.pipeline.key({ ...usage, variant: 0 })) ?? [])])].sort((a, b) => a - b);
  }

  private imageOf(plan: ImagePlan): NonNullable<TakeView['image']> {
    const first = plan.sources[0]?.variants ?? [];
    return {
      src: this.url(plan.fallback.name),
      srcset: first.map((v) => `${this.url(v.name)} ${v.width}w`).join(', '),
      width: plan.fallback.width,
      height: plan.fallback.height,
    };
  }

  private costOf(key: string, price: number | null): Pick<TakeView, 'cost' | 'estimate'> {
    const charged = this.pipeline.cache.get(key)?.cost;
    return typeof charged === 'number' ? { cost: charged, estimate: false } : { cost: price, estimate: price !== null };
  }

  private async takeOf(usage: Usage, variant: number, price: number | null): Promise<TakeView> {
    const request = take(usage, variant);
    const key = this.pipeline.key(request);
    const base = { variant, key, ...this.costOf(key, price) };
    const state = this.renderer.stateOf(key);
    if (state?.state === 'generating') return { ...base, state: 'generating' };
    if (state?.state === 'failed') return { ...base, state: 'failed', reason: state.reason };
    if (!this.pipeline.cache.get(key)) {
      return { ...base, state: 'missing', reason: this.renderer.cannotGenerate ?? 'not generated yet: it is when a page shows it' };
    }
    try {
      return { ...base, state: 'ready', image: this.imageOf((await this.pipeline.resolve(request)).plan) };
    } catch (error) {
      return { ...base, state: 'failed', reason: oneLine((error as Error).message, 300) };
    }
  }

  /** An image a page showed whose prompt no literal usage has: shown from a file it already has, never encoding one for this list. */
  private dataImage(key: string, price: number | null): DataImageView | undefined {
    const entry = this.pipeline.cache.get(key);
    if (!entry) return undefined;
    const files = Object.entries(entry.variants).filter(([, v]) => !v.transform.placeholder).sort(([, a], [, b]) => b.width - a.width);
    const [name, file] = files[0] ?? [];
    const image = name && file ? { src: this.url(name), srcset: '', width: file.width, height: file.height } : undefined;
    return { prompt: entry.prompt, ratio: entry.ratio, take: { variant: entry.variant, key, state: 'ready', image, ...this.costOf(key, price) } };
  }

  /** Everything the page lists; `pageKeys` are the images the page it was opened from shows. */
  async list(pageKeys: string[]): Promise<TakesData> {
    await this.pipeline.load();
    const [{ files, problems }, price] = await Promise.all([this.sources(), this.pricePerImage()]);
    const cached = this.cachedVariants();
    const usages: UsageView[] = [];
    for (const source of files) {
      for (const usage of source.usages) {
        const location = relativeLocation(usage.loc, this.root);
        try {
          const takes = await Promise.all(this.variantsOf(usage, cached).map((variant) => this.takeOf(usage, variant, price)));
          usages.push({ file: this.relative(source.file), start: usage.start, hash: source.hash, location, prompt: usage.prompt, ratio: usage.ratio, variant: usage.variant, takes });
        } catch (error) {
          // A reference file that is not an image: the build says so too.
          problems.push(`${location}: ${oneLine((error as Error).message, 300)}`);
        }
      }
    }
    const listed = new Set(usages.flatMap((usage) => usage.takes.map((take) => take.key)));
    const fromData = pageKeys.filter((key) => !listed.has(key)).flatMap((key) => this.dataImage(key, price) ?? []);
    const cannotGenerate = this.renderer.cannotGenerate;
    return { ...(cannotGenerate ? { cannotGenerate } : {}), price, usages, fromData, problems };
  }

  /** The usage a page names, from a fresh read of its file: refused unless the file is one the scan reads, unchanged since the page saw it. */
  private async find(ref: UsageRef): Promise<{ source: SourceFile; usage: Usage }> {
    const file = path.resolve(this.root, ref.file);
    const { files } = await this.sources();
    const source = files.find((f) => f.file === file);
    if (!source) throw refused(`${ref.file} is not a source file of this site with a <GeneratedImage> in it`);
    const usage = source.usages.find((u) => u.start === ref.start);
    if (source.hash !== ref.hash || !usage) {
      throw new GeneratedImagesError('SOURCE_CHANGED', `${this.relative(file)} changed since this page was loaded: nothing was written`, {
        hint: 'The list has been reloaded from the file as it is now: look at the takes again.',
      });
    }
    return { source, usage };
  }

  /** Starts the next take of a usage (one past every variant known for its prompt); it lands in the cache like any image. */
  async another(ref: UsageRef): Promise<{ variant: number; key: string }> {
    const cannot = this.renderer.cannotGenerate;
    if (cannot) throw refused(`no new take can be made: ${cannot}`);
    await this.pipeline.load();
    const { usage } = await this.find(ref);
    const variant = Math.max(...this.variantsOf(usage, this.cachedVariants())) + 1;
    const first = this.pipeline.key({ ...usage, variant: 0 });
    if (!this.asked.has(first)) this.asked.set(first, new Set());
    this.asked.get(first)!.add(variant);
    const next = take(usage, variant);
    this.renderer.generate(next);
    return { variant, key: this.pipeline.key(next) };
  }

  /** Writes a cached take's `variant` into the usage's source, changing nothing else; the file watcher does the rest. */
  async keep(request: KeepRequest): Promise<{ location: string; variant: number }> {
    await this.pipeline.load();
    const { source, usage } = await this.find(request);
    const location = relativeLocation(usage.loc, this.root);
    if (!this.pipeline.cache.get(this.pipeline.key({ ...usage, variant: request.variant }))) {
      throw refused(`variant ${request.variant} of ${location} is not in the cache: only a take that is ready can be kept`);
    }
    const edit = setVariant(source.text, source.file, usage.start, request.variant, this.root);
    // The last look before writing: an editor may have saved since the scan.
    if (sha256(await fs.readFile(source.file, 'utf8')) !== source.hash) {
      throw new GeneratedImagesError('SOURCE_CHANGED', `${this.relative(source.file)} changed while the take was being kept: nothing was written`);
    }
    // In place, as editors save: a symlinked or hard-linked source stays one, and its mode is kept.
    await fs.writeFile(source.file, edit.code);
    return { location, variant: request.variant };
  }
}
