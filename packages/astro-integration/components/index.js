export { default as GeneratedImage } from './GeneratedImage.astro';
