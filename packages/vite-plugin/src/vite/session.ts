import type { ResolvedConfig, ViteDevServer } from 'vite';
import type { Diagnostic } from '../core/errors.js';
import { relativeLocation } from '../core/location.js';
import type { ImagePipeline } from '../core/pipeline.js';
import type { DevRenderer } from './dev/renderer.js';
import type { BundleFiles } from './output.js';

/**
 * Everything one Vite run (a build, or a dev server) of the plugin knows.
 * Kept per resolved config, never on the plugin object: a framework may run
 * the same plugin instances in a dev server and a build at once (Astro starts
 * a temporary dev server during `astro build`), and neither may see the other's
 * mode, pipeline or files.
 */
export interface Session {
  readonly config: ResolvedConfig;
  readonly pipeline: ImagePipeline;
  /** In dev: renders what is cached, placeholders for the rest. */
  dev?: DevRenderer;
  server?: ViteDevServer;
  /** The files each environment's bundle references, when this host emits them (the Vite plugin; Astro copies its own). */
  readonly output: BundleFiles | undefined;
  /** The URL of an optimized file in the build output, for a host that does not emit through the bundle. */
  buildUrl(name: string): string;
  /** The pre-build scan and the transform read the same files: each warning is said once. */
  warnOnce(warning: Diagnostic): void;
}

/** The sessions of one plugin instance, one per resolved config. */
export class Sessions {
  private readonly byConfig = new WeakMap<ResolvedConfig, Session>();
  private last: Session | undefined;

  open(config: ResolvedConfig, pipeline: ImagePipeline, output: BundleFiles | undefined, buildUrl?: (name: string) => string): Session {
    const warned = new Set<string>();
    const session: Session = {
      config,
      pipeline,
      output,
      buildUrl: buildUrl ?? ((name) => `${config.base}${config.build.assetsDir ? `${config.build.assetsDir}/` : ''}${name}`),
      warnOnce(warning) {
        const message = `${relativeLocation(warning.loc, config.root)}: ${warning.reason}`;
        if (warned.has(message)) return;
        warned.add(message);
        pipeline.reporter.warn(message);
      },
    };
    this.byConfig.set(config, session);
    this.last = session;
    return session;
  }

  /** The session of a hook's context: its environment's config where Vite has environments, else the latest one. */
  of(context: unknown): Session {
    const environment = (context as { environment?: { getTopLevelConfig?: () => ResolvedConfig } } | undefined)?.environment;
    const config = environment?.getTopLevelConfig?.();
    const session = (config && this.byConfig.get(config)) ?? this.last;
    if (!session) throw new Error('vite-plugin-generated-images: a hook ran before configResolved');
    return session;
  }

  ofConfig(config: ResolvedConfig): Session | undefined {
    return this.byConfig.get(config);
  }
}
