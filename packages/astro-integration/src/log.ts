import type { AstroIntegrationLogger } from 'astro';
import { interactive, type ProgressStyle, type Reporter } from 'vite-plugin-generated-images/core';

/**
 * The pipeline's messages through Astro's logger, in lines that never land
 * inside Astro's own. Astro prints a page's path, renders the page, then
 * appends its render time to the same line: so while pages render, nothing
 * is printed — messages wait until rendering is over, and progress is left
 * to the summary. Before that, a terminal shows a live progress line in
 * `astro build` (drawn with the cursor at its start, so that a line Astro
 * prints meanwhile, such as its "Waiting for integration", replaces it
 * instead of continuing it); elsewhere (CI, `astro dev`) a few plain lines:
 * the start, each failure and the end.
 */
export class AstroReporter implements Reporter {
  private line: string | undefined;
  /** Set while pages render: what is printed then waits here. */
  private held: Array<() => void> | undefined;
  /** Whether a live line may be drawn: a terminal, in a build, before pages render. */
  private live: boolean;

  constructor(
    private readonly logger: AstroIntegrationLogger,
    build: boolean,
    private readonly stream: NodeJS.WriteStream = process.stdout,
  ) {
    this.live = build && interactive(stream);
  }

  info(message: string): void {
    this.print(() => this.logger.info(message));
  }

  warn(message: string): void {
    this.print(() => this.logger.warn(message));
  }

  progressStyle(): ProgressStyle {
    return this.held ? 'silent' : this.live ? 'live' : 'milestones';
  }

  status(next: string | undefined): void {
    this.erase();
    this.line = next === undefined ? undefined : `[${this.logger.label}] ${next}`;
    this.draw();
  }

  /** Pages start rendering: from now on, messages wait and no live line is drawn. */
  hold(): void {
    this.status(undefined);
    this.live = false;
    this.held ??= [];
  }

  /** Rendering is over: what waited is printed, in order, and messages go out as they come. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const print of held) print();
  }

  private print(write: () => void): void {
    if (this.held) {
      this.held.push(write);
      return;
    }
    this.erase();
    write();
    this.draw();
  }

  private draw(): void {
    if (this.line !== undefined) this.stream.write(`${this.line}\r`);
  }

  private erase(): void {
    if (this.line !== undefined) this.stream.write('\r\x1b[K');
  }
}
