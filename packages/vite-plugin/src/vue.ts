import type { DefineComponent, ImgHTMLAttributes } from 'vue';
import type { GeneratedImageBaseProps } from './core/props.js';

/**
 * Types for Vue projects: `/// <reference types="vite-plugin-generated-images/vue" />`
 * (in `env.d.ts`) registers the tag as a global component for vue-tsc and Volar. No
 * import or registration is needed: the plugin replaces every `<GeneratedImage>` with
 * markup before Vue compiles the template. Its props, then the `<img>` attributes that
 * pass through (an index signature would make Vue infer no props at all).
 */
type Props = GeneratedImageBaseProps & Omit<ImgHTMLAttributes, keyof GeneratedImageBaseProps | 'src' | 'srcset'>;

declare module 'vue' {
  interface GlobalComponents {
    GeneratedImage: DefineComponent<Props>;
  }
}
