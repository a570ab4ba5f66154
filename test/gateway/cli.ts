// Start the test gateway as a process:
//   node test/gateway/cli.ts [--port N] [--latency MS] [--api-key KEY] [--models-only-text-unless-asked]
//                            [--max-in-flight N] [--max-in-flight-retry-after S] [--cost USD | --no-cost]
// Prints one line `TEST_GATEWAY_URL=<url>` and runs until SIGINT/SIGTERM.
import { startTestGateway } from './server.ts';

const FLAGS =
  '[--port N] [--latency MS] [--api-key KEY] [--models-only-text-unless-asked] ' +
  '[--max-in-flight N] [--max-in-flight-retry-after S] [--cost USD | --no-cost]';

function usage(msg: string): never {
  process.stderr.write(`${msg}\nusage: node test/gateway/cli.ts ${FLAGS}\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
let port = 0;
let latencyMs = 0;
let apiKey: string | undefined;
let modelsOnlyTextUnlessAsked = false;
let maxInFlight: number | undefined;
let maxInFlightRetryAfter: string | undefined;
let cost: number | null | undefined;
const intArg = (name: string, v: string | undefined): number => {
  if (v === undefined || !/^\d+$/.test(v)) usage(`${name} needs a non-negative integer`);
  return Number(v);
};
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
  const value = (): string | undefined => inline ?? args[++i];
  switch (flag) {
    case '--port': port = intArg('--port', value()); break;
    case '--latency': latencyMs = intArg('--latency', value()); break;
    case '--api-key': apiKey = value() ?? usage('--api-key needs a value'); break;
    case '--models-only-text-unless-asked': modelsOnlyTextUnlessAsked = true; break;
    case '--max-in-flight': maxInFlight = intArg('--max-in-flight', value()); break;
    case '--max-in-flight-retry-after': maxInFlightRetryAfter = String(intArg('--max-in-flight-retry-after', value())); break;
    case '--cost': {
      const v = value();
      if (v === undefined || !/^\d+(\.\d+)?$/.test(v)) usage('--cost needs a non-negative number (USD per reply)');
      cost = Number(v);
      break;
    }
    case '--no-cost': cost = null; break;
    case '-h': case '--help': usage('test gateway'); break;
    default: usage(`unknown argument: ${a}`);
  }
}

const gw = await startTestGateway({ port, latencyMs, apiKey, modelsOnlyTextUnlessAsked, maxInFlight, maxInFlightRetryAfter, cost });
process.stdout.write(`TEST_GATEWAY_URL=${gw.url}\n`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  gw.close().then(() => process.exit(0), () => process.exit(1));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
