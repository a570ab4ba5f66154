/** What the takes page receives and sends: shared by the dev server and the page's script. */

/** One take of a prompt: a `variant` of it, in the cache or on its way. */
export interface TakeView {
  variant: number;
  key: string;
  state: 'ready' | 'generating' | 'failed' | 'missing';
  /** Why it failed, or why a missing one is not being made. */
  reason?: string;
  /** The optimized files the site shows for it (URLs on the dev server). */
  image?: { src: string; srcset: string; width: number; height: number };
  /** US dollars: what the gateway charged for it (the manifest's `cost`), else its price per image; null when neither is known. */
  cost: number | null;
  /** `cost` is the gateway's price per image, not what this image cost. */
  estimate: boolean;
}

/** Names one usage as the page saw it; `hash` is the sha256 of its file's text then. */
export interface UsageRef {
  file: string;
  start: number;
  hash: string;
}

export interface UsageView extends UsageRef {
  /** `file:line:column`, relative to the project root. */
  location: string;
  prompt: string;
  ratio: string;
  /** The variant the source asks for now. */
  variant: number;
  takes: TakeView[];
}

/** An image a page showed whose prompt is not a literal in source (Astro: from data): listed, not kept from here. */
export interface DataImageView {
  prompt: string;
  ratio: string;
  take: TakeView;
}

export interface TakesData {
  /** Why no new take can be made (frozen, no key); absent when one can. */
  cannotGenerate?: string;
  /** The gateway's price per image in US dollars, when it gives one. */
  price: number | null;
  usages: UsageView[];
  fromData: DataImageView[];
  /** Usages the scan could not read, as `file:line:column: reason`. */
  problems: string[];
}

export interface KeepRequest extends UsageRef {
  variant: number;
}
