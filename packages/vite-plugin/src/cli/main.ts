import { readFileSync } from 'node:fs';
import { errorText, isError, PREFIX } from '../core/errors.js';
import { parseCommandLine, type ParsedCommand } from './args.js';

/** Runs one command line; resolves to the exit status: 0 fine, 1 a finding or a failure, 2 a usage error. */
export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    if (!isError(error, 'CLI_USAGE')) throw error;
    process.stderr.write(`generated-images: ${errorText(error)}\n`);
    return 2;
  }
  if ('help' in parsed) {
    process.stdout.write(parsed.help);
    return 0;
  }
  if ('version' in parsed) {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  return runCommand(parsed);
}

async function runCommand(command: ParsedCommand): Promise<number> {
  try {
    // Loaded only for a command, so that --help and usage errors answer at once (no Vite, sharp or openai).
    const { openContext } = await import('./context.js');
    // `generate` is the deliberate way to fill a frozen project's cache, so frozen does not apply to it.
    const context = await openContext(command, process.cwd(), command.command === 'generate' ? { frozen: false } : {});
    switch (command.command) {
      case 'status':
        return await (await import('./status.js')).status(context, command.flags);
      case 'generate':
        return await (await import('./generate.js')).generate(context, command.flags);
      case 'prune':
        return await (await import('./prune.js')).prune(context, command.flags);
      case 'verify':
        return await (await import('./verify.js')).verify(context);
    }
  } catch (error) {
    if (!isError(error)) {
      process.stderr.write(`generated-images: ${(error as Error)?.stack ?? String(error)}\n`);
      return 1;
    }
    // A command line that names a missing folder or file, or a config without the plugin, is a usage error too.
    if (error.code === 'CLI_USAGE') {
      process.stderr.write(`generated-images: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`${PREFIX} ${errorText(error)}\n`);
    return 1;
  }
}
