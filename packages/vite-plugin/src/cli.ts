#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { CliUsageError, parseCommandLine, type ParsedCommand } from './cli/args.js';

/** Runs one command line; resolves to the exit status: 0 fine, 1 a finding or a failure, 2 a usage error. */
async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    process.stderr.write(`generated-images: ${error.message}\nRun \`generated-images ${error.command ? `${error.command} ` : ''}--help\` for usage.\n`);
    return 2;
  }
  if ('help' in parsed) {
    process.stdout.write(parsed.help);
    return 0;
  }
  if ('version' in parsed) {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  return runCommand(parsed);
}

async function runCommand(command: ParsedCommand): Promise<number> {
  // Loaded only for a command, so that --help and usage errors answer at once (no Vite, sharp or openai).
  const [{ CacheError }, { GeneratedImagesError }, { OptionsError }, { openContext }, { ConfigError }] = await Promise.all([
    import('./cache.js'),
    import('./errors.js'),
    import('./options.js'),
    import('./cli/context.js'),
    import('./cli/project.js'),
  ]);
  try {
    // `generate` is the deliberate way to fill a frozen project's cache, so frozen does not apply to it.
    const context = await openContext(command, process.cwd(), command.command === 'generate' ? { frozen: false } : {});
    switch (command.command) {
      case 'status':
        return await (await import('./cli/status.js')).status(context, command.flags);
      case 'generate':
        return await (await import('./cli/generate.js')).generate(context, command.flags);
      case 'prune':
        return await (await import('./cli/prune.js')).prune(context, command.flags);
      case 'verify':
        return await (await import('./cli/verify.js')).verify(context);
    }
  } catch (error) {
    if (error instanceof CliUsageError) {
      process.stderr.write(`generated-images: ${error.message}\n`);
      return 2;
    }
    const known = [GeneratedImagesError, CacheError, OptionsError, ConfigError].some((type) => error instanceof type);
    const message = known ? (error as Error).message : (error as Error)?.stack ?? String(error);
    process.stderr.write(`${message.startsWith('[generated-images]') ? message : `generated-images: ${message}`}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
