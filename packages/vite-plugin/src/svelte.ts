import type { Component } from 'svelte';
import type { GeneratedImageProps } from './jsx.js';

/**
 * Types for Svelte projects: `/// <reference types="vite-plugin-generated-images/svelte" />`
 * (in `src/app.d.ts` or `src/vite-env.d.ts`) declares the tag for svelte-check and editors.
 * No import is needed in components: the plugin replaces every `<GeneratedImage>` with
 * markup before Svelte compiles them.
 */
declare global {
  const GeneratedImage: Component<GeneratedImageProps>;
}
