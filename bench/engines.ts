/**
 * docker-1090 on a real Docker engine (warm cache) against the imitation: `lab up` and `lab down` paired run by run
 * (paired() cancels the machine's drift), where the engine's step spends its time (LAB_ENGINE_TIMES), the load average
 * while measuring, and the daemon's peak resident memory (dockerd and its containerd), per engine in BENCH_ENGINES
 * (default 20.10,26.1). BENCH_INSTANCE names the instance (default bench).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { env, lab, labBin, paired, stats, timed } from './measure.js';

const log = (s: string) => process.stderr.write(`${s}\n`);

interface EngineState {
  resources: { engines?: Record<string, { pid?: number; version?: string }> };
}

const instance = process.env.BENCH_INSTANCE ?? 'bench';

/** `lab up` on a real engine, its phases read from stderr: "engine-time <ms> ms: <phase>" lines, as ms per phase. */
function upWithPhases(engine: string): Record<string, number> {
  const out = spawnSync(process.execPath, [labBin, 'up', 'docker-1090', '--instance', instance, '--docker', engine], {
    env: { ...env, LAB_ENGINE_TIMES: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr = out.stderr.toString();
  if (out.status !== 0) throw new Error(`lab up docker-1090 --docker ${engine} failed: ${stderr.slice(-2000)}`);
  const marks = [...stderr.matchAll(/^engine-time (\d+) ms: (.*)$/gm)].map((m) => ({ ms: Number(m[1]), phase: m[2]! }));
  const phases: Record<string, number> = {};
  marks.forEach((m, i) => {
    const next = marks[i + 1];
    if (next) phases[m.phase.replace(/^Docker \S+: /, '').replace(/^docker run \S+/, 'docker run')] = next.ms - m.ms;
  });
  return phases;
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
  for (const engine of (process.env.BENCH_ENGINES ?? '20.10,26.1').split(',')) {
    lab(['engines', '--fetch', engine]);
    const state = () => JSON.parse(fs.readFileSync(path.join(env.LAB_HOME, 'state', `docker-1090+${instance}.json`), 'utf8')) as EngineState;
    let version: string | undefined;
    let rss: number | null = null;
    const downs: { real: number[]; emulated: number[] } = { real: [], emulated: [] };
    const phases: Record<string, number[]> = {};
    const loads: number[] = [];
    // One warm-up of each: the image files go into the cache on an engine's first start.
    for (const docker of [engine, 'emulated']) {
      lab(['up', 'docker-1090', '--instance', instance, '--docker', docker]);
      lab(['down', 'docker-1090', '--instance', instance]);
    }
    const up = paired(
      reps,
      () => {
        let seen: Record<string, number> = {};
        const ms = timed(() => (seen = upWithPhases(engine)));
        for (const [phase, value] of Object.entries(seen)) (phases[phase] ??= []).push(value);
        loads.push(os.loadavg()[0]!);
        const client = state().resources.engines?.client;
        version = client?.version;
        rss = peakRssMiB(client?.pid);
        downs.real.push(timed(() => lab(['down', 'docker-1090', '--instance', instance])));
        return ms;
      },
      () => {
        const ms = timed(() => lab(['up', 'docker-1090', '--instance', instance, '--docker', 'emulated']));
        downs.emulated.push(timed(() => lab(['down', 'docker-1090', '--instance', instance])));
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
      phasesMs: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, stats(v).median])),
      loadAverage: Math.round(stats(loads).median * 10) / 10,
    };
    log(`engine ${engine} (${version ?? '?'}): ${JSON.stringify(figures)}`);
    out.push({ engine, version: version ?? null, ...figures });
  }
  return out;
}
