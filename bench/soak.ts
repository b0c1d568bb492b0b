/**
 * Soak (`npm run soak`, as root, not in CI): 100 up/down cycles of one instance, then 10 instances
 * up, run and down at once; then what is left: namespaces, processes inside the lab's (deleted)
 * namespaces, state/lock/work files, and any change of the root namespace (addresses, links, routes,
 * iptables-save, nft list ruleset). Writes bench/results/soak.json. SOAK_CYCLES, SOAK_INSTANCES,
 * SOAK_PREFIX change the sizes and the instance names.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../src/paths.js';

const cycles = Number(process.env.SOAK_CYCLES ?? 100);
const instances = Number(process.env.SOAK_INSTANCES ?? 10);
const prefix = process.env.SOAK_PREFIX ?? 'h-soak';
const lab = 'docker-1090';
const labBin = path.join(packageRoot, 'bin', 'lab.cjs');
const home = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
const env = { ...process.env, LAB_HOME: path.join(home, 'home'), LAB_RESULTS: path.join(home, 'results') };
const out = path.join(packageRoot, 'bench', 'results', 'soak.json');

function run(args: string[]): Promise<{ code: number; ms: number; stderr: string }> {
  const start = performance.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [labBin, ...args], { env, maxBuffer: 64 * 1024 * 1024 }, (error, _stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, ms: Math.round(performance.now() - start), stderr: String(stderr) });
    });
  });
}

function text(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return `(${cmd} failed)`;
  }
}

/** The root namespace as far as a lab could change it; counters and address lifetimes taken out. */
function rootFingerprint(): string[] {
  return [
    ...text('ip', ['-o', 'link'])
      .split('\n')
      .map(
        (l) =>
          `link ${
            l
              .replace(/^\d+: /, '')
              .replace(/ qlen \d+|link\/\S+ \S+ brd \S+/g, '')
              .split(' ')[0]
          }`,
      ),
    ...text('ip', ['-o', 'addr'])
      .split('\n')
      .map((l) => `addr ${l.replace(/\s+valid_lft.*$/, '').replace(/\\/g, '')}`),
    ...text('ip', ['route', 'show', 'table', 'all'])
      .split('\n')
      .map((l) => `route ${l}`),
    ...text('ip', ['-6', 'route', 'show', 'table', 'all'])
      .split('\n')
      .map((l) => `route6 ${l.replace(/ expires \d+sec/, '')}`),
    ...text('iptables-save', [])
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .map((l) => `iptables ${l.replace(/\[\d+:\d+\]/, '')}`),
    ...text('nft', ['list', 'ruleset'])
      .split('\n')
      .map((l) => `nft ${l.replace(/counter packets \d+ bytes \d+/, 'counter')}`),
  ].filter((l) => !/^\S+ $/.test(l));
}

function ourNamespaces(): string[] {
  return text('ip', ['netns', 'list'])
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.includes(`+${prefix}`));
}

/** Inodes of our namespaces while they exist: afterwards a process in one of them is a leftover even though its name is gone. */
const seenNamespaceInodes = new Set<number>();
function recordNamespaces(): void {
  for (const ns of ourNamespaces()) {
    try {
      seenNamespaceInodes.add(fs.statSync(path.join('/run/netns', ns)).ino);
    } catch {
      // removed meanwhile
    }
  }
}

function processesInOurNamespaces(): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const ino = fs.statSync(`/proc/${pid}/ns/net`).ino;
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (seenNamespaceInodes.has(ino) || cmd.includes(home)) found.push(`${pid} ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function filesLeft(): string[] {
  const list = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true }).map((f) => path.join(dir, String(f))) : []);
  return [...list(path.join(env.LAB_HOME, 'state')), ...list(path.join(env.LAB_HOME, 'work'))].filter((f) => !fs.statSync(f).isDirectory());
}

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { n: samples.length, median: at(0.5), p95: at(0.95), max: sorted.at(-1) ?? 0, min: sorted[0] ?? 0 };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the soak builds labs in network namespaces: run it as root');
  const before = rootFingerprint();
  const failures: string[] = [];
  const started = Date.now();

  const up: number[] = [];
  const down: number[] = [];
  for (let i = 0; i < cycles; i++) {
    const u = await run(['up', lab, '--instance', prefix]);
    recordNamespaces();
    const d = await run(['down', lab, '--instance', prefix]);
    if (u.code !== 0) failures.push(`cycle ${i} up exit ${u.code}: ${u.stderr.trim().split('\n')[0]}`);
    if (d.code !== 0) failures.push(`cycle ${i} down exit ${d.code}: ${d.stderr.trim().split('\n')[0]}`);
    up.push(u.ms);
    down.push(d.ms);
    if (ourNamespaces().length) failures.push(`cycle ${i}: namespaces left after down: ${ourNamespaces().join(' ')}`);
    process.stderr.write(`\rcycle ${i + 1}/${cycles}: up ${u.ms} ms, down ${d.ms} ms   `);
  }
  process.stderr.write('\n');

  const names = Array.from({ length: instances }, (_, i) => `${prefix}-c${i}`);
  const phase = async (args: (n: string) => string[]) => {
    const start = performance.now();
    const results = await Promise.all(names.map((n) => run(args(n))));
    recordNamespaces();
    return {
      wallMs: Math.round(performance.now() - start),
      codes: results.map((r) => r.code),
      each: stats(results.map((r) => r.ms)),
      errors: results.filter((r) => r.code !== 0).map((r) => r.stderr.trim().split('\n')[0]),
    };
  };
  const concurrentUp = await phase((n) => ['up', lab, '--instance', n]);
  const concurrentRun = await phase((n) => ['run', lab, '--instance', n, '--variant', 'baseline', '--json']);
  const concurrentDown = await phase((n) => ['down', lab, '--instance', n]);
  for (const [what, p] of Object.entries({ up: concurrentUp, down: concurrentDown })) {
    if (p.codes.some((c) => c !== 0)) failures.push(`concurrent ${what}: ${p.errors.join('; ')}`);
  }
  // run exits 1 for an INCONCLUSIVE verdict on a loaded machine; that is a verdict, not a leftover.
  if (concurrentRun.codes.some((c) => c > 1)) failures.push(`concurrent run: ${concurrentRun.errors.join('; ')}`);

  const after = rootFingerprint();
  const leftovers = {
    namespaces: ourNamespaces(),
    processes: processesInOurNamespaces(),
    files: filesLeft(),
    rootNamespace: [...before.filter((l) => !after.includes(l)).map((l) => `- ${l}`), ...after.filter((l) => !before.includes(l)).map((l) => `+ ${l}`)],
  };
  const clean = Object.values(leftovers).every((l) => l.length === 0) && failures.length === 0;
  const report = {
    measuredAt: new Date().toISOString(),
    machine: { kernel: os.release(), cpus: os.cpus().length, node: process.version },
    lab,
    totalS: Math.round((Date.now() - started) / 1000),
    cycles: { count: cycles, upMs: stats(up), downMs: stats(down), cycleMs: stats(up.map((u, i) => u + down[i]!)) },
    concurrent: { instances, up: concurrentUp, run: concurrentRun, down: concurrentDown },
    namespacesWatched: seenNamespaceInodes.size,
    leftovers,
    failures,
    clean,
  };
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  const summary = `${cycles} cycles (median ${report.cycles.cycleMs.median} ms), ${instances} concurrent instances`;
  process.stdout.write(`${clean ? 'clean' : 'NOT CLEAN'}: ${summary}; ${path.relative(process.cwd(), out)}\n`);
  if (!clean) {
    process.stdout.write(`${JSON.stringify({ leftovers, failures }, null, 2)}\n`);
    process.exitCode = 1;
  }
  fs.rmSync(home, { recursive: true, force: true });
}

await main();
