import path from 'node:path';
import { resolveOptions, type ResolvedOptions } from '../core/options.js';
import { ImagePipeline } from '../core/pipeline.js';
import type { Reporter } from '../core/report.js';
import type { ParsedCommand } from './args.js';
import { loadProject, type Project } from './project.js';

/** One command's view of the project: its config, the resolved options, and the same pipeline a build uses. */
export interface CliContext {
  project: Project;
  options: ResolvedOptions;
  pipeline: ImagePipeline;
  /** A path as build messages show it: relative to the project root. */
  rel(file: string): string;
}

/** Progress and warnings go to stderr, so that stdout holds only the report (and stays JSON with --json). */
export const stderrReporter: Reporter = {
  info: (message) => process.stderr.write(`${message}\n`),
  warn: (message) => process.stderr.write(`warning: ${message}\n`),
};

export async function openContext(command: ParsedCommand, cwd: string, override: Partial<ResolvedOptions> = {}): Promise<CliContext> {
  const project = await loadProject({ cwd, root: command.root, config: command.config });
  const options = { ...resolveOptions(project.options, { root: project.root }), ...override };
  return {
    project,
    options,
    pipeline: new ImagePipeline(options, stderrReporter),
    rel: (file) => path.relative(project.root, file) || '.',
  };
}
