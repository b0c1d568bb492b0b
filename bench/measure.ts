/** Running things for the bench: the lab CLI, the ip -batch floor, Mininet; wall times and RSS. */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../src/paths.js';
import type { ResolvedLab } from '../src/lab/model.js';
import { planLab } from '../src/providers/netns/plan.js';

export const labBin = path.join(packageRoot, 'bin', 'lab.cjs');
export const benchHome = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-bench-'));
// The imitation unless BENCH sets LAB_DOCKER: the labs' figures stay comparable with earlier runs; bench/engines.ts names real engines.
export const env = { LAB_DOCKER: 'emulated', ...process.env, LAB_HOME: path.join(benchHome, 'home'), LAB_RESULTS: path.join(benchHome, 'results') };

export function timed(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** `lab ...`; exit 1 (an INCONCLUSIVE verdict) still counts as a measured run. */
export function lab(args: string[]): void {
  try {
    execFileSync(process.execPath, [labBin, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    if ((error as { status?: number }).status !== 1) throw new Error(`lab ${args.join(' ')} failed: ${String((error as { stderr?: Buffer }).stderr ?? error)}`);
  }
}

interface RunOutput {
  variants: Array<{ name: string; verdict: string; durationMs?: number }>;
}

/** `lab ... --json`: each variant's verdict and time, in the lab's order (no variants when the run failed). */
export function labOutcome(args: string[]): { verdicts: string[]; durationsMs: Record<string, number> } {
  let out: string | undefined;
  try {
    out = execFileSync(process.execPath, [labBin, ...args, '--json'], {
      env,
      stdio: ['ignore', 'pipe', 'ignore'],
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    out = (error as { stdout?: string }).stdout;
  }
  let variants: RunOutput['variants'] = [];
  try {
    variants = (JSON.parse(out ?? '') as RunOutput).variants;
  } catch {
    // no JSON: the run failed before it printed any
  }
  const durationsMs = Object.fromEntries(variants.flatMap((v) => (typeof v.durationMs === 'number' ? [[v.name, v.durationMs]] : [])));
  return { verdicts: variants.map((v) => v.verdict), durationsMs };
}

/** Wall milliseconds of a whole process, its output thrown away. */
export function processMs(argv: string[]): number {
  return timed(() => execFileSync(argv[0]!, argv.slice(1), { env, stdio: 'ignore' }));
}

/** A and B in turn, n times each; medians of both and of the ratio A/B pair by pair (pairs cancel the machine's drift). */
export function paired(n: number, a: () => number, b: () => number): { a: Stats; b: Stats; ratio: number } {
  const as: number[] = [];
  const bs: number[] = [];
  for (let i = 0; i < n; i++) {
    as.push(a());
    bs.push(b());
  }
  const ratios = as.map((x, i) => x / bs[i]!).sort((x, y) => x - y);
  const mid = ratios.length % 2 ? ratios[(ratios.length - 1) / 2]! : (ratios[ratios.length / 2 - 1]! + ratios[ratios.length / 2]!) / 2;
  return { a: stats(as), b: stats(bs), ratio: Math.round(mid * 100) / 100 };
}

export function labAsync(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [labBin, ...args], { env, stdio: 'ignore' });
    tracked.add(child.pid!);
    child.on('exit', (code) => {
      tracked.delete(child.pid!);
      resolve(code ?? 1);
    });
  });
}

const tracked = new Set<number>();

export interface Stats {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  return { median: Math.round(median), min: Math.round(sorted[0]!), max: Math.round(sorted[n - 1]!), samples: values.map(Math.round) };
}

/** The floor: the same namespaces, links, addresses and routes with ip -batch and nothing else. */
export function floorUpDown(lab: ResolvedLab): { upMs: number; downMs: number } {
  const plan = planLab(lab);
  const adds = plan.namespaces.map((ns) => `netns add ${ns}`).join('\n');
  const perNs = new Map<string, string[]>();
  for (const step of plan.steps) {
    for (const c of step.commands) {
      if (c.argv[0] === 'ip' && c.argv[1] === '-n') perNs.set(c.argv[2]!, [...(perNs.get(c.argv[2]!) ?? []), c.argv.slice(3).join(' ')]);
    }
  }
  const upMs = timed(() => {
    execFileSync('ip', ['-batch', '-'], { input: `${adds}\n` });
    for (const [ns, lines] of perNs) execFileSync('ip', ['-n', ns, '-batch', '-'], { input: `${lines.join('\n')}\n` });
  });
  const downMs = timed(() => execFileSync('ip', ['-batch', '-'], { input: `${plan.namespaces.map((ns) => `netns delete ${ns}`).join('\n')}\n` }));
  return { upMs, downMs };
}

export function mininetAvailable(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import mininet.net'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function mininetUpDown(lab: ResolvedLab): { upMs: number; downMs: number } {
  const spec = {
    nodes: lab.nodes.map((n) => ({ name: n.name, forward: n.kind === 'router', interfaces: n.interfaces, routes: n.routes })),
    links: lab.links.map((l) => ({ a: l.endpoints[0].node, aIface: l.endpoints[0].iface, b: l.endpoints[1].node, bIface: l.endpoints[1].iface })),
  };
  const file = path.join(benchHome, `mininet-${lab.name}.json`);
  fs.writeFileSync(file, JSON.stringify(spec));
  // Mininet is measured only where it finishes within 5 minutes; a timeout leaves its columns null.
  const out = execFileSync('/usr/bin/python3', [path.join(packageRoot, 'bench', 'mininet_topology.py'), file], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
    timeout: 300_000,
    killSignal: 'SIGKILL',
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as { upMs: number; downMs: number };
}

/** RSS in MiB of the processes inside namespaces whose names start with `prefix`, and of the lab CLI processes this bench started. */
export function rssMiB(prefix: string): { labProcesses: number; tool: number } {
  const inodes = new Set<number>();
  for (const ns of fs.existsSync('/run/netns') ? fs.readdirSync('/run/netns') : []) {
    if (ns.startsWith(prefix)) inodes.add(fs.statSync(path.join('/run/netns', ns)).ino);
  }
  let labKb = 0;
  let toolKb = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1] ?? 0);
      if (tracked.has(Number(entry))) toolKb += rss;
      else if (inodes.has(Number(/\[(\d+)\]/.exec(fs.readlinkSync(`/proc/${entry}/ns/net`))?.[1]))) labKb += rss;
    } catch {
      // gone
    }
  }
  return { labProcesses: Math.round(labKb / 1024), tool: Math.round(toolKb / 1024) };
}
