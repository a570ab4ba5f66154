// Preloaded (node --import) into the builds the benchmark times: on exit, appends this
// process's CPU time and peak RSS to the file named by BENCH_RUSAGE, one JSON line per process.
import { appendFileSync } from 'node:fs';

const file = process.env.BENCH_RUSAGE;
if (file) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    appendFileSync(file, `${JSON.stringify({ pid: process.pid, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000, maxRssKB: usage.maxRSS })}\n`);
  });
}
