// @ts-check
import mdx from '@astrojs/mdx';
import { defineConfig } from 'astro/config';
import generatedImages from 'astro-generated-images';

export default defineConfig({
  site: 'https://tidewater-bakery.example',
  integrations: [
    mdx(),
    generatedImages({
      // One look for every picture on the site; part of each image's cache key.
      style: 'warm soft-light photograph, muted coastal colours',
      widths: [400, 800],
    }),
  ],
});
