import type { DefineComponent } from 'vue';
import type { GeneratedImageProps } from './jsx.js';

/**
 * Types for Vue projects: `/// <reference types="vite-plugin-generated-images/vue" />`
 * (in `env.d.ts`) registers the tag as a global component for vue-tsc and Volar, with its
 * props. No import or registration is needed: the plugin replaces every
 * `<GeneratedImage>` with markup before Vue compiles the template.
 */
declare module 'vue' {
  interface GlobalComponents {
    GeneratedImage: DefineComponent<GeneratedImageProps>;
  }
}
