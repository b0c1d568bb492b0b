/**
 * `npm run bench`: lab lifecycle speed per lab, scale on generated topologies against the ip -batch
 * floor and Mininet, and concurrent instances with memory. Medians of several repetitions, written to
 * bench/results/latest.json and latest.md. Figures only: nothing here asserts a time.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot, labsDir } from '../src/paths.js';
import { parseLabFile } from '../src/lab/load.js';
import { resolveLab } from '../src/lab/resolve.js';
import { generate, type Shape } from './topologies.js';
import { benchHome, floorUpDown, lab, labAsync, mininetAvailable, mininetUpDown, rssMiB, stats, timed } from './measure.js';
import { renderMarkdown } from './markdown.js';
import { benchKernels } from './kernels.js';

const reps = Number(process.env.BENCH_REPETITIONS ?? 3);
const sizes = (process.env.BENCH_SIZES ?? '10,50,100,200').split(',').map(Number);
const instanceCounts = (process.env.BENCH_INSTANCES ?? '1,5,10,30').split(',').map(Number);
const only = process.env.BENCH_ONLY?.split(',');
const log = (s: string) => process.stderr.write(`${s}\n`);

function benchLabs() {
  const names = fs.readdirSync(labsDir).filter((d) => fs.existsSync(path.join(labsDir, d, 'lab.yaml'))).sort();
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
    for (const nodes of sizes) {
      const topo = generate(shape, nodes);
      const dir = path.join(benchHome, 'labs', topo.shape + nodes);
      fs.mkdirSync(dir, { recursive: true });
      const file = path.join(dir, 'lab.yaml');
      fs.writeFileSync(file, topo.yaml);
      const resolved = resolveLab(parseLabFile(file), file, 'floor');
      const m = { labUp: [] as number[], labDown: [] as number[], floorUp: [] as number[], floorDown: [] as number[], mnUp: [] as number[], mnDown: [] as number[] };
      for (let i = 0; i < reps; i++) {
        m.labUp.push(timed(() => lab(['up', file])));
        m.labDown.push(timed(() => lab(['down', file])));
        const floor = floorUpDown(resolved);
        m.floorUp.push(floor.upMs);
        m.floorDown.push(floor.downMs);
        if (withMininet) {
          const mn = mininetUpDown(resolved);
          m.mnUp.push(mn.upMs);
          m.mnDown.push(mn.downMs);
        }
        log(`${shape} ${nodes} #${i + 1}: lab ${Math.round(m.labUp.at(-1)!)}/${Math.round(m.labDown.at(-1)!)} ms, floor ${Math.round(floor.upMs)}/${Math.round(floor.downMs)} ms${withMininet ? `, mininet ${m.mnUp.at(-1)}/${m.mnDown.at(-1)} ms` : ''}`);
      }
      const med = (xs: number[]) => (xs.length ? stats(xs).median : null);
      out.push({
        shape,
        nodes,
        lab: { upMs: med(m.labUp), downMs: med(m.labDown), upPerNodeMs: Math.round((med(m.labUp)! / nodes) * 100) / 100, up: stats(m.labUp), down: stats(m.labDown) },
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
    const runCodes = await Promise.all(names.map((inst) => labAsync(['run', 'docker-1090', '--instance', inst])));
    const runMs = Date.now() - t1;
    clearInterval(sampler);
    const t2 = Date.now();
    const downCodes = await Promise.all(names.map((inst) => labAsync(['down', 'docker-1090', '--instance', inst])));
    const downMs = Date.now() - t2;
    const decided = runCodes.filter((c) => c === 0).length;
    log(`${n} instances: up ${upMs} ms, run ${runMs} ms, down ${downMs} ms, peak RSS lab ${peak.labProcesses} MiB + tool ${peak.tool} MiB, ${decided}/${n} runs fully decided`);
    out.push({ n, upMs, runMs, downMs, rssMiB: peak.labProcesses + peak.tool, rss: peak, upFailures: upCodes.filter((c) => c !== 0).length, downFailures: downCodes.filter((c) => c !== 0).length, runsFullyDecided: decided });
  }
  return out;
}

const dir = path.join(packageRoot, 'bench', 'results');
// BENCH_ONLY measures some sections: the others keep their last figures.
const previous = only && fs.existsSync(path.join(dir, 'latest.json')) ? (JSON.parse(fs.readFileSync(path.join(dir, 'latest.json'), 'utf8')) as Record<string, unknown>) : {};
const section = <T>(name: string, measure: () => T): T => (!only || only.includes(name) ? measure() : ((previous[name] ?? []) as T));
const result = {
  machine: { kernel: os.release(), cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? null, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
  measuredAt: new Date().toISOString(),
  repetitions: reps,
  labs: section('labs', benchLabs),
  topologies: section('topologies', benchTopologies),
  instances: !only || only.includes('instances') ? await benchInstances() : ((previous.instances ?? []) as Awaited<ReturnType<typeof benchInstances>>),
  kernels: section('kernels', benchKernels),
};
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
fs.writeFileSync(path.join(dir, 'latest.md'), renderMarkdown(result));
fs.rmSync(benchHome, { recursive: true, force: true });
process.stdout.write(`wrote bench/results/latest.json and latest.md\n`);
