/**
 * docker-1090 on a real Docker engine (warm cache) against the imitation: `lab up` and `lab down` paired run by run
 * (paired() cancels the machine's drift), and the daemon's peak resident memory (dockerd and the containerd it runs),
 * per engine in BENCH_ENGINES (default 26.1).
 */
import fs from 'node:fs';
import path from 'node:path';
import { env, lab, paired, stats, timed } from './measure.js';

const log = (s: string) => process.stderr.write(`${s}\n`);

interface EngineState {
  resources: { engines?: Record<string, { pid?: number; version?: string }> };
}

function peakRssMiB(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  const kb = (p: number) => Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
  try {
    const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return Math.round([pid, ...children].reduce((sum, p) => sum + kb(p), 0) / 1024);
  } catch {
    return null;
  }
}

export function benchEngines(reps: number) {
  const out = [];
  for (const engine of (process.env.BENCH_ENGINES ?? '26.1').split(',')) {
    lab(['engines', '--fetch', engine]);
    const state = () => JSON.parse(fs.readFileSync(path.join(env.LAB_HOME, 'state', 'docker-1090+bench.json'), 'utf8')) as EngineState;
    let version: string | undefined;
    let rss: number | null = null;
    const downs: { real: number[]; emulated: number[] } = { real: [], emulated: [] };
    const up = paired(
      reps,
      () => {
        const ms = timed(() => lab(['up', 'docker-1090', '--instance', 'bench', '--docker', engine]));
        const client = state().resources.engines?.client;
        version = client?.version;
        rss = peakRssMiB(client?.pid);
        downs.real.push(timed(() => lab(['down', 'docker-1090', '--instance', 'bench'])));
        return ms;
      },
      () => {
        const ms = timed(() => lab(['up', 'docker-1090', '--instance', 'bench']));
        downs.emulated.push(timed(() => lab(['down', 'docker-1090', '--instance', 'bench'])));
        return ms;
      },
    );
    const figures = {
      upMs: up.a,
      emulatedUpMs: up.b,
      upRatio: up.ratio,
      downMs: stats(downs.real).median,
      emulatedDownMs: stats(downs.emulated).median,
      daemonPeakRssMiB: rss,
    };
    log(`engine ${engine} (${version ?? '?'}): ${JSON.stringify(figures)}`);
    out.push({ engine, version: version ?? null, ...figures });
  }
  return out;
}
