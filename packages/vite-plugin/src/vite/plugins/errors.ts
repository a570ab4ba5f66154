import type { Plugin } from 'vite';
import { PLUGIN_NAME, withoutBundlerStack } from '../overlay.js';

/**
 * `vite build` on Vite 8 prints a failed build as Rolldown's error, with
 * Rolldown's stack under our message. Each environment's build is where that
 * error comes out, so builds started by the app builder (Vite's default, and
 * frameworks' `buildApp` hooks alike) pass their errors through
 * `withoutBundlerStack` first. Vite 6 and 7 print our errors cleanly already.
 */
export function errorsPlugin(): Plugin {
  return {
    name: `${PLUGIN_NAME}:errors`,
    apply: 'build',
    buildApp: {
      order: 'pre',
      async handler(builder) {
        const build = builder.build.bind(builder);
        builder.build = async (environment) => {
          try {
            return await build(environment);
          } catch (error) {
            throw withoutBundlerStack(error);
          }
        };
      },
    },
  };
}
