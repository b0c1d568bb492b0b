/**
 * `npm run bench`: lab lifecycle speed per lab, scale on generated topologies against the ip -batch
 * floor and Mininet, and concurrent instances with memory. Medians of several repetitions, written to
 * bench/results/latest.json and latest.md. Figures only: nothing here asserts a time.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { labNames, labsDir, packageRoot } from '../src/paths.js';
import { parseLabFile } from '../src/lab/load.js';
import { resolveLab } from '../src/lab/resolve.js';
import { generate, type Shape } from './topologies.js';
import {
  benchHome,
  floorUpDown,
  lab,
  labAsync,
  labBin,
  labOutcome,
  mininetAvailable,
  mininetUpDown,
  paired,
  processMs,
  rssMiB,
  stats,
  timed,
} from './measure.js';
import { charts, renderHtml, renderMarkdown } from './markdown.js';
import { ratiosOf } from './ratios.js';
import { benchKernels } from './kernels.js';
import { benchEngines } from './engines.js';
import { benchVmNodes } from './vm-nodes.js';

const reps = Number(process.env.BENCH_REPETITIONS ?? 3);
const sizes = (process.env.BENCH_SIZES ?? '10,50,100,200,500,1000').split(',').map(Number);
const instanceCounts = (process.env.BENCH_INSTANCES ?? '1,5,10,30').split(',').map(Number);
const only = process.env.BENCH_ONLY?.split(',');
// Mininet's up alone takes 40 s at 200 nodes here and grows faster than linearly: BENCH_MININET_MAX bounds the sizes it is tried at.
const mininetMax = Number(process.env.BENCH_MININET_MAX ?? Infinity);
const log = (s: string) => process.stderr.write(`${s}\n`);
const benchedLabs = () => labNames().filter((name) => !process.env.BENCH_LABS || process.env.BENCH_LABS.split(',').includes(name));

function benchLabs() {
  const names = benchedLabs();
  return names.map((name) => {
    const up: number[] = [];
    const run: number[] = [];
    const down: number[] = [];
    for (let i = 0; i < reps; i++) {
      up.push(timed(() => lab(['up', name, '--instance', 'bench'])));
      run.push(timed(() => lab(['run', name, '--instance', 'bench'])));
      down.push(timed(() => lab(['down', name, '--instance', 'bench'])));
      log(`lab ${name} #${i + 1}: up ${Math.round(up.at(-1)!)} ms, run ${Math.round(run.at(-1)!)} ms, down ${Math.round(down.at(-1)!)} ms`);
    }
    const [u, r, d] = [stats(up), stats(run), stats(down)];
    return { name, upMs: u.median, runMs: r.median, downMs: d.median, up: u, run: r, down: d };
  });
}

function benchTopologies() {
  const withMininet = mininetAvailable();
  if (!withMininet) log('mininet: not installed (apt-get install mininet); its columns stay null');
  const out = [];
  for (const shape of ['line', 'star'] as Shape[]) {
    let mininetFinishes = withMininet;
    for (const nodes of sizes) {
      const topo = generate(shape, nodes);
      const dir = path.join(benchHome, 'labs', topo.shape + nodes);
      fs.mkdirSync(dir, { recursive: true });
      const file = path.join(dir, 'lab.yaml');
      fs.writeFileSync(file, topo.yaml);
      const resolved = resolveLab(parseLabFile(file), file, 'floor');
      const m = {
        labUp: [] as number[],
        labDown: [] as number[],
        floorUp: [] as number[],
        floorDown: [] as number[],
        mnUp: [] as number[],
        mnDown: [] as number[],
      };
      for (let i = 0; i < reps; i++) {
        m.labUp.push(timed(() => lab(['up', file])));
        m.labDown.push(timed(() => lab(['down', file])));
        const floor = floorUpDown(resolved);
        m.floorUp.push(floor.upMs);
        m.floorDown.push(floor.downMs);
        if (mininetFinishes && nodes <= mininetMax) {
          try {
            const mn = mininetUpDown(resolved);
            m.mnUp.push(mn.upMs);
            m.mnDown.push(mn.downMs);
          } catch (error) {
            log(`mininet ${shape} ${nodes}: did not finish (${String((error as Error).message).split('\n')[0]}); not measured from here on`);
            mininetFinishes = false;
          }
        }
        log(
          `${shape} ${nodes} #${i + 1}: lab ${Math.round(m.labUp.at(-1)!)}/${Math.round(m.labDown.at(-1)!)} ms, floor ${Math.round(floor.upMs)}/${Math.round(floor.downMs)} ms${m.mnUp.length > i ? `, mininet ${m.mnUp.at(-1)}/${m.mnDown.at(-1)} ms` : ''}`,
        );
      }
      const med = (xs: number[]) => (xs.length === reps ? stats(xs).median : null);
      out.push({
        shape,
        nodes,
        lab: {
          upMs: med(m.labUp),
          downMs: med(m.labDown),
          upPerNodeMs: Math.round((med(m.labUp)! / nodes) * 100) / 100,
          up: stats(m.labUp),
          down: stats(m.labDown),
        },
        floor: { upMs: med(m.floorUp), downMs: med(m.floorDown) },
        mininet: { upMs: med(m.mnUp), downMs: med(m.mnDown) },
      });
    }
  }
  return out;
}

async function benchInstances() {
  const out = [];
  for (const n of instanceCounts) {
    const names = Array.from({ length: n }, (_, i) => `bench${n}-${i + 1}`);
    const t0 = Date.now();
    const upCodes = await Promise.all(names.map((inst) => labAsync(['up', 'docker-1090', '--instance', inst])));
    const upMs = Date.now() - t0;
    let peak = { labProcesses: 0, tool: 0 };
    const sampler = setInterval(() => {
      const now = rssMiB(`lab.docker-1090+bench${n}-`);
      peak = { labProcesses: Math.max(peak.labProcesses, now.labProcesses), tool: Math.max(peak.tool, now.tool) };
    }, 250);
    const t1 = Date.now();
    // --check: exit 0 only when every verdict is the one the lab file expects on this kernel (exit 1 otherwise).
    const runCodes = await Promise.all(names.map((inst) => labAsync(['run', 'docker-1090', '--instance', inst, '--check'])));
    const runMs = Date.now() - t1;
    clearInterval(sampler);
    const t2 = Date.now();
    const downCodes = await Promise.all(names.map((inst) => labAsync(['down', 'docker-1090', '--instance', inst])));
    const downMs = Date.now() - t2;
    const decided = runCodes.filter((c) => c === 0).length;
    log(
      `${n} instances: up ${upMs} ms, run ${runMs} ms, down ${downMs} ms, peak RSS lab ${peak.labProcesses} MiB + tool ${peak.tool} MiB, ${decided}/${n} runs with every verdict as expected`,
    );
    out.push({
      n,
      upMs,
      runMs,
      downMs,
      rssMiB: peak.labProcesses + peak.tool,
      rss: peak,
      upFailures: upCodes.filter((c) => c !== 0).length,
      downFailures: downCodes.filter((c) => c !== 0).length,
      runsAsExpected: decided,
    });
  }
  return out;
}

/**
 * Time to a verdict per lab: every variant serially on one copy, at once on copies, and one variant alone; paired runs.
 * The slowest variant alone (by its own time in the serial runs) is the floor of a run at once: it is timed too.
 */
function benchVerdicts() {
  const names = benchedLabs();
  return names.map((name) => {
    const one = Object.keys(parseLabFile(path.join(labsDir, name, 'lab.yaml')).variants)[0]!;
    const concurrentVerdicts: string[][] = [];
    const serialVerdicts: string[][] = [];
    const serialDurations: Array<Record<string, number>> = [];
    const vsSerial = paired(
      reps,
      () => timed(() => concurrentVerdicts.push(labOutcome(['run', name, '--instance', 'bv']).verdicts)),
      () =>
        timed(() => {
          const outcome = labOutcome(['run', name, '--instance', 'bv', '--serial']);
          serialVerdicts.push(outcome.verdicts);
          serialDurations.push(outcome.durationsMs);
        }),
    );
    const allAtOnce = () => timed(() => lab(['run', name, '--instance', 'bv']));
    const vsOne = paired(reps, allAtOnce, () => timed(() => lab(['run', name, '--instance', 'bv', '--variant', one])));
    const slowest = slowestVariant(serialDurations) ?? one;
    const vsSlowest = slowest === one ? vsOne : paired(reps, allAtOnce, () => timed(() => lab(['run', name, '--instance', 'bv', '--variant', slowest])));
    const reference = JSON.stringify(serialVerdicts[0]);
    const verdictsAgree = [...concurrentVerdicts, ...serialVerdicts].every((v) => JSON.stringify(v) === reference);
    log(
      `verdicts ${name}: concurrent ${vsSerial.a.median} ms, serial ${vsSerial.b.median} ms (${vsSerial.ratio}), one variant ${vsOne.b.median} ms (concurrent/one ${vsOne.ratio}), slowest ${slowest} ${vsSlowest.b.median} ms (concurrent/slowest ${vsSlowest.ratio}), verdicts agree: ${verdictsAgree}`,
    );
    return {
      name,
      oneVariant: one,
      concurrentMs: vsSerial.a.median,
      serialMs: vsSerial.b.median,
      oneVariantMs: vsOne.b.median,
      slowestVariant: slowest,
      slowestVariantMs: vsSlowest.b.median,
      concurrentVsSerial: vsSerial.ratio,
      concurrentVsOneVariant: vsOne.ratio,
      concurrentVsSlowestVariant: vsSlowest.ratio,
      verdictsAgree,
      concurrentVerdicts,
      serialVerdicts,
    };
  });
}

/** The variant with the longest median time of its own across serial runs. */
function slowestVariant(runs: Array<Record<string, number>>): string | undefined {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r)))];
  const median = (name: string) => stats(runs.flatMap((r) => (name in r ? [r[name]!] : []))).median;
  return names.sort((a, b) => median(b) - median(a))[0];
}

/** The CLI's start-up against `node -e 0`, paired, and `lab up` / `lab down` of docker-1090 as wall time. */
function benchCli() {
  const n = Math.max(5, reps * 3);
  const node = () => processMs([process.execPath, '-e', '0']);
  const cli =
    (...args: string[]) =>
    () =>
      processMs([process.execPath, labBin, ...args]);
  const vsNode = Object.fromEntries(
    (['list', 'status', 'validate'] as const).map((c) => {
      const p = paired(n, cli(c, ...(c === 'validate' ? ['docker-1090'] : [])), node);
      log(`cli ${c}: ${p.a.median} ms, node -e 0 ${p.b.median} ms, ratio ${p.ratio}`);
      return [c, { ms: p.a.median, nodeMs: p.b.median, ratio: p.ratio }];
    }),
  );
  const up: number[] = [];
  const down: number[] = [];
  for (let i = 0; i < n; i++) {
    up.push(processMs([process.execPath, labBin, 'up', 'docker-1090', '--instance', 'bcli']));
    down.push(processMs([process.execPath, labBin, 'down', 'docker-1090', '--instance', 'bcli']));
  }
  log(`cli up docker-1090: ${stats(up).median} ms, down ${stats(down).median} ms`);
  return { vsNode, upDocker1090: stats(up), downDocker1090: stats(down) };
}

const dir = path.join(packageRoot, 'bench', 'results');
// BENCH_ONLY measures some sections: the others keep their last figures.
const previous =
  only && fs.existsSync(path.join(dir, 'latest.json')) ? (JSON.parse(fs.readFileSync(path.join(dir, 'latest.json'), 'utf8')) as Record<string, unknown>) : {};
const section = <T>(name: string, measure: () => T): T => (!only || only.includes(name) ? measure() : ((previous[name] ?? []) as T));
const result = {
  machine: {
    kernel: os.release(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  },
  measuredAt: new Date().toISOString(),
  repetitions: reps,
  labs: section('labs', benchLabs),
  topologies: section('topologies', benchTopologies),
  instances: !only || only.includes('instances') ? await benchInstances() : ((previous.instances ?? []) as Awaited<ReturnType<typeof benchInstances>>),
  verdicts: section('verdicts', benchVerdicts),
  cli: !only || only.includes('cli') ? benchCli() : ((previous.cli ?? null) as ReturnType<typeof benchCli> | null),
  kernels: section('kernels', benchKernels),
  engines: section('engines', () => benchEngines(reps)),
  vmNodes: section('vm-nodes', benchVmNodes),
};
const withRatios = { ...result, ratios: ratiosOf(result) };
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify(withRatios, null, 2)}\n`);
fs.writeFileSync(path.join(dir, 'latest.md'), renderMarkdown(withRatios));
fs.writeFileSync(path.join(dir, 'latest.html'), renderHtml(withRatios));
for (const [file, svg] of Object.entries(charts(withRatios))) fs.writeFileSync(path.join(dir, file), `${svg}\n`);
fs.rmSync(benchHome, { recursive: true, force: true });
process.stdout.write(`wrote bench/results/latest.json and latest.md\n`);
