import type { ViteDevServer } from 'vite';

/** A finished image shows in a module: hot-update it where it can be (React, Vue, Svelte), else reload the page. */
export function updateModule(server: ViteDevServer, file: string): void {
  let reload = false;
  for (const environment of Object.values(server.environments)) {
    for (const mod of environment.moduleGraph.getModulesByFile(file) ?? []) {
      if (environment.name === 'client') void environment.reloadModule(mod);
      else {
        environment.moduleGraph.invalidateModule(mod);
        reload = true;
      }
    }
  }
  if (reload) server.environments.client.hot.send({ type: 'full-reload' });
}
