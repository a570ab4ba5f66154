import type { ImageSettings } from './sites.ts';

/** What one benchmark run measures, and at what size. */
export interface Config {
  quick: boolean;
  /** Images in the main site. */
  images: number;
  settings: ImageSettings;
  /** Timed runs of each side of a comparison (medians are reported). */
  trials: number;
  /** Images in the peak-RSS site. */
  memoryImages: number;
  scan: { files: number; usages: number };
  generation: { images: number; concurrency: number; latencyMs: number };
  /** `concurrency: 'auto'` against a gateway that holds `maxInFlight` requests at once. */
  limit: { images: number; maxInFlight: number; latencyMs: number };
  effort: { images: number; width: number; avif: number[]; webp: number[] };
  parallelism: { images: number };
}

export const FULL: Config = {
  quick: false,
  images: 60,
  // The plugin's default widths (640, 1024, 1600) capped at the 1344-pixel originals.
  settings: { formats: ['avif', 'webp'], widths: [640, 1024, 1344] },
  trials: 5,
  memoryImages: 300,
  scan: { files: 5000, usages: 300 },
  generation: { images: 60, concurrency: 4, latencyMs: 3000 },
  limit: { images: 100, maxInFlight: 12, latencyMs: 8000 },
  effort: { images: 2, width: 1024, avif: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], webp: [0, 1, 2, 3, 4, 5, 6] },
  parallelism: { images: 6 },
};

export const QUICK: Config = {
  quick: true,
  images: 6,
  settings: { formats: ['avif', 'webp'], widths: [160, 320] },
  trials: 1,
  memoryImages: 12,
  scan: { files: 1000, usages: 60 },
  generation: { images: 8, concurrency: 4, latencyMs: 300 },
  limit: { images: 16, maxInFlight: 3, latencyMs: 300 },
  effort: { images: 1, width: 320, avif: [2, 3, 4], webp: [2, 4] },
  parallelism: { images: 2 },
};

export interface Context {
  config: Config;
  /** Scratch folder of this run, under bench/.tmp. */
  work: string;
  log: (line?: string) => void;
}
