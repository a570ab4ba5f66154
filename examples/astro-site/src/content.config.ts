import { defineCollection } from 'astro:content';
import { glob } from 'astro/loaders';
import { z } from 'astro/zod';
import { RATIOS } from 'astro-generated-images';

const blog = defineCollection({
  loader: glob({ pattern: '**/*.{md,mdx}', base: './src/content/blog' }),
  schema: z.object({
    title: z.string(),
    description: z.string(),
    pubDate: z.coerce.date(),
    /** The post's hero picture, generated from this prompt the first time the site is built. */
    heroPrompt: z.string(),
    heroAlt: z.string(),
    heroRatio: z.enum(RATIOS).default('16:9'),
  }),
});

export const collections = { blog };
