import type { ImagePipeline } from '../../core/pipeline.js';
import { oneLine } from '../../core/text.js';
import { renderPending } from '../../render/pending.js';
import type { Syntax } from '../../render/picture.js';
import { renderUsage, usageProps } from '../../render/usage.js';
import type { Usage } from '../../sources/usage.js';
import { EditSettle } from './settle.js';

export interface DevHooks {
  /** A generation failed (`reason`: the gateway's or the check's words); the usage shows a "failed" placeholder until its file changes. */
  onError(usage: Usage, reason: string): void;
  /** Placeholders link to the takes page: the host's pages load the page script that opens it. */
  takesLink: boolean;
}

/** Where an image that is not in the cache stands in the dev server. */
export type GenerationState = { state: 'generating' } | { state: 'failed'; reason: string };

/**
 * The dev server's rendering. What is cached renders at once; what is not
 * renders as a placeholder of the final size while it generates in the
 * background, and whoever showed it is told when it is ready (`onReady`), once
 * per image and caller however often the page was requested meanwhile. A miss
 * in a file saved less than a second ago waits until the file has settled, so
 * drafts of a prompt are never generated. Without a key, or frozen, misses
 * stay placeholders with one warning.
 */
export class DevRenderer {
  private warned = false;
  /** Images being generated (or encoded) now. */
  private readonly waiting = new Set<string>();
  /** Images shown as placeholders → the callers (by id) to tell when each is ready. */
  private readonly viewers = new Map<string, Map<string, () => void>>();
  /** Images whose generation failed, with the files that use them: not retried until one of those changes. */
  private readonly failures = new Map<string, { usage: Usage; reason: string; files: Set<string> }>();
  private readonly settle = new EditSettle();

  constructor(
    private readonly pipeline: ImagePipeline,
    private readonly url: (name: string) => string,
    private readonly hooks: DevHooks,
  ) {}

  /** Why nothing can be generated in this server (frozen, or no key), or undefined when it can. */
  get cannotGenerate(): string | undefined {
    const { frozen, apiKey } = this.pipeline.options;
    if (frozen) return `frozen mode is on${process.env.CI ? ' (CI is set)' : ''}: images missing from the cache show as placeholders and are not generated; set frozen: false to generate them`;
    if (!apiKey) return 'no API key: images missing from the cache show as placeholders and are not generated; set AGNIC_API_KEY (or the apiKey option) and restart the dev server to generate them';
    return undefined;
  }

  /** `url`: how this caller writes a file's URL, when not as the renderer was told (Vite's HTML pipeline adds the base itself). */
  async render(usage: Usage, syntax: Syntax, onReady: () => void, caller: string = usage.loc.file, url = this.url): Promise<string> {
    const { pipeline } = this;
    const options = pipeline.options;
    await pipeline.load();
    const key = pipeline.key(usage);
    const settings = { widths: options.widths, imageSize: options.imageSize, takes: this.hooks.takesLink };
    const pending = (status: string) => renderPending({ ...usage, key }, usageProps(usage), status, syntax, settings);
    if (pipeline.cache.get(key)) return renderUsage(usage, await pipeline.resolve(usage), url, syntax);

    const failure = this.failures.get(key);
    if (failure) {
      failure.files.add(usage.loc.file);
      return pending(`Failed: ${oneLine(failure.reason, 90)}`);
    }
    const cannot = this.cannotGenerate;
    if (cannot) {
      if (!this.warned) {
        this.warned = true;
        pipeline.reporter.warn(cannot);
      }
      return pending(options.frozen ? 'Not generated (frozen)' : 'Not generated (no API key)');
    }

    let callers = this.viewers.get(key);
    if (!callers) this.viewers.set(key, (callers = new Map()));
    callers.set(caller, onReady);
    if (this.waiting.has(key)) return pending('Generating…');
    if (this.settle.defer(usage.loc.file, key, () => this.generate(usage))) return pending('Waiting for the edit to settle…');
    this.generate(usage);
    return pending('Generating…');
  }

  /** Generates a missing image in the background (once however often asked) and tells those who showed it when it is ready. */
  generate(usage: Usage): void {
    const { pipeline } = this;
    const key = pipeline.key(usage);
    if (this.waiting.has(key) || pipeline.cache.get(key)) return;
    this.waiting.add(key);
    this.failures.delete(key);
    pipeline.resolve(usage).then(
      () => {
        this.waiting.delete(key);
        this.announce(key);
      },
      (error: Error) => {
        this.waiting.delete(key);
        // A generation the closing server aborted is no failure to show.
        if (pipeline.closed) return;
        // The pipeline's error lists every failed image; this usage's own reason is kept by key.
        const reason = pipeline.failureOf(key) ?? oneLine(error.message, 500);
        this.failures.set(key, { usage, reason, files: new Set([usage.loc.file]) });
        this.hooks.onError(usage, reason);
      },
    );
  }

  /** Whether an image that is not cached is being generated or failed. */
  stateOf(key: string): GenerationState | undefined {
    if (this.waiting.has(key)) return { state: 'generating' };
    const failure = this.failures.get(key);
    return failure && { state: 'failed', reason: failure.reason };
  }

  private announce(key: string): void {
    for (const ready of this.viewers.get(key)?.values() ?? []) ready();
  }
  /**
   * A page shows placeholders for `keys`: those ready by now are announced
   * again (the page may have missed the first announcement); those that
   * failed are returned, for the page to show their error.
   */
  recheck(keys: unknown): Array<{ usage: Usage; reason: string }> {
    const failed: Array<{ usage: Usage; reason: string }> = [];
    if (!Array.isArray(keys)) return failed;
    for (const key of new Set(keys.slice(0, 1000))) {
      if (typeof key !== 'string') continue;
      const failure = this.failures.get(key);
      if (failure) failed.push(failure);
      else if (!this.waiting.has(key) && this.pipeline.cache.get(key)) this.announce(key);
    }
    return failed;
  }

  /** `file` was edited: images that failed there are tried again when next rendered, and its misses wait until it settles. */
  fileChanged(file: string): void {
    this.settle.changed(file);
    for (const [key, failure] of this.failures) if (failure.files.has(file)) this.failures.delete(key);
  }
}

