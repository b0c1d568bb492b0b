/** The bench results as the Markdown tables the README shows, the charts (SVG) and an HTML page with both. */
import { groupedBars, logLogChart } from './plot.js';
import type { Ratio } from './ratios.js';

interface Result {
  machine: { kernel: string; cpus: number; cpuModel: string | null; memoryGiB: number; node: string };
  measuredAt: string;
  repetitions: number;
  labs: Array<{ name: string; upMs: number; runMs: number; downMs: number }>;
  topologies: Array<{
    shape: string;
    nodes: number;
    lab: { upMs: number | null; downMs: number | null; upPerNodeMs: number };
    floor: { upMs: number | null; downMs: number | null };
    mininet: { upMs: number | null; downMs: number | null };
  }>;
  instances: Array<{ n: number; upMs: number; runMs: number; downMs: number; rssMiB: number; runsAsExpected: number }>;
  verdicts: Array<{
    name: string;
    oneVariant: string;
    concurrentMs: number;
    serialMs: number;
    oneVariantMs: number;
    slowestVariant: string;
    slowestVariantMs: number;
    concurrentVsSerial: number;
    concurrentVsOneVariant: number;
    concurrentVsSlowestVariant: number;
    verdictsAgree: boolean;
  }>;
  cli: { vsNode: Record<string, { ms: number; nodeMs: number; ratio: number }>; upDocker1090: { median: number }; downDocker1090: { median: number } } | null;
  ratios: Ratio[];
  kernels?: Array<{
    kernel: string;
    release: string | null;
    bootToFirstCommandMs: number | null;
    upMs: number;
    docker1090VariantsMs: number;
    downMs: number;
    qemuPeakRssMiB: number | null;
  }>;
  engines?: Array<{
    engine: string;
    version: string | null;
    upMs: { median: number; min: number; max: number };
    emulatedUpMs: { median: number; min: number; max: number };
    upRatio: number;
    downMs: number;
    emulatedDownMs: number;
    daemonPeakRssMiB: number | null;
    phasesMs?: Record<string, number>;
    loadAverage?: number;
  }>;
  vmNodes?: {
    kernel: string;
    docker1090: Array<{
      accel: string | null;
      upMs: number;
      upGuestCpuS?: number;
      peakRssMiB: Record<string, number | null>;
      downMs: number;
      verdicts: string[];
    }>;
    netnsVerdicts: string[];
    sameAsNetns: number[];
    line10: { nodes: number; upMs: number; upGuestCpuS?: number; downMs: number };
  };
}

/** The charts by file name (written beside latest.md); empty when nothing was measured for them. */
export function charts(r: Result): Record<string, string> {
  const topo = (shape: string) =>
    logLogChart(`${shape}: up time against nodes`, 'nodes', 'up (median)', [
      { name: 'lab up', points: r.topologies.filter((t) => t.shape === shape && t.lab.upMs !== null).map((t) => [t.nodes, t.lab.upMs!]) },
      { name: 'ip -batch floor', points: r.topologies.filter((t) => t.shape === shape && t.floor.upMs !== null).map((t) => [t.nodes, t.floor.upMs!]) },
      { name: 'Mininet', points: r.topologies.filter((t) => t.shape === shape && t.mininet.upMs !== null).map((t) => [t.nodes, t.mininet.upMs!]) },
    ]);
  const out: Record<string, string> = {
    'up-line.svg': topo('line'),
    'up-star.svg': topo('star'),
    'verdict-time.svg': groupedBars(
      'time to verdict per lab (median)',
      's',
      ['serial (one copy)', 'concurrent (a copy per variant)', 'one variant alone'],
      r.verdicts.map((v) => ({ label: v.name, values: [v.serialMs, v.concurrentMs, v.oneVariantMs] })),
    ),
  };
  return Object.fromEntries(Object.entries(out).filter(([, svg]) => svg));
}

const ratio = (a: number | null, b: number | null) => (a !== null && b ? `${(a / b).toFixed(1)}×` : '—');
const ms = (v: number | null) => (v === null ? '—' : String(v));

export function renderMarkdown(r: Result): string {
  const lines = [
    `Measured ${r.measuredAt} on ${r.machine.cpus} cores (${r.machine.cpuModel ?? '?'}), ${r.machine.memoryGiB} GiB, kernel ${r.machine.kernel}, Node ${r.machine.node}; medians of ${r.repetitions} repetitions, milliseconds.`,
    '',
  ];
  if (r.ratios.length) {
    lines.push(
      '| figure | value | target | met |',
      '|---|---|---|---|',
      ...r.ratios.map((x) => `| ${x.what} | ${x.value ?? '—'} | ${x.target} | ${x.met === null ? 'not measured' : x.met ? 'yes' : 'no'} |`),
      '',
    );
  }
  lines.push(...Object.keys(charts(r)).map((file) => `![${file}](${file})`), '');
  if (r.verdicts.length) {
    lines.push(
      '| lab | serial | concurrent | one variant | slowest variant alone | concurrent/serial | concurrent/one variant | concurrent/slowest variant | verdicts equal |',
      '|---|---|---|---|---|---|---|---|---|',
      ...r.verdicts.map(
        (v) =>
          `| ${v.name} | ${v.serialMs} | ${v.concurrentMs} | ${v.oneVariantMs} (${v.oneVariant}) | ${v.slowestVariantMs} (${v.slowestVariant}) | ${v.concurrentVsSerial}× | ${v.concurrentVsOneVariant}× | ${v.concurrentVsSlowestVariant}× | ${v.verdictsAgree ? 'yes' : 'NO'} |`,
      ),
      '',
    );
  }
  if (r.cli) {
    lines.push(
      '| command | ms | node -e 0 | ratio (paired) |',
      '|---|---|---|---|',
      ...Object.entries(r.cli.vsNode).map(([c, v]) => `| lab ${c} | ${v.ms} | ${v.nodeMs} | ${v.ratio}× |`),
    );
    lines.push(`| lab up docker-1090 | ${r.cli.upDocker1090.median} | | |`, `| lab down docker-1090 | ${r.cli.downDocker1090.median} | | |`, '');
  }
  if (r.labs.length) {
    lines.push('| lab | up | run | down |', '|---|---|---|---|', ...r.labs.map((l) => `| ${l.name} | ${l.upMs} | ${l.runMs} | ${l.downMs} |`), '');
  }
  if (r.topologies.length) {
    lines.push(
      '| topology | nodes | lab up | lab down | per node (up) | floor up | floor down | mininet up | mininet down | lab/floor (up) | lab/mininet (up) |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
      ...r.topologies.map(
        (t) =>
          `| ${t.shape} | ${t.nodes} | ${ms(t.lab.upMs)} | ${ms(t.lab.downMs)} | ${t.lab.upPerNodeMs} | ${ms(t.floor.upMs)} | ${ms(t.floor.downMs)} | ${ms(t.mininet.upMs)} | ${ms(t.mininet.downMs)} | ${ratio(t.lab.upMs, t.floor.upMs)} | ${ratio(t.lab.upMs, t.mininet.upMs)} |`,
      ),
      '',
    );
  }
  if (r.instances.length) {
    lines.push(
      '| docker-1090 instances | up (all, concurrent) | run (all, concurrent) | down | peak RSS MiB | runs with every verdict as expected |',
      '|---|---|---|---|---|---|',
      ...r.instances.map((i) => `| ${i.n} | ${i.upMs} | ${i.runMs} | ${i.downMs} | ${i.rssMiB} | ${i.runsAsExpected}/${i.n} |`),
      '',
    );
  }
  if (r.kernels?.length) {
    lines.push(
      '| kernel (QEMU, TCG) | boot to first command | lab up | docker-1090 variants | down | QEMU peak RSS MiB |',
      '|---|---|---|---|---|---|',
      ...r.kernels.map(
        (k) =>
          `| ${k.kernel} (${k.release ?? '?'}) | ${ms(k.bootToFirstCommandMs)} | ${k.upMs} | ${k.docker1090VariantsMs} | ${k.downMs} | ${k.qemuPeakRssMiB ?? '—'} |`,
      ),
      '',
    );
  }
  if (r.engines?.length) {
    lines.push(
      '| docker-1090, Docker engine (warm cache) | lab up (min-max) | emulated lab up (min-max) | ratio | down | emulated down | dockerd+containerd peak RSS MiB | engine step, median ms per phase | load |',
      '|---|---|---|---|---|---|---|---|---|',
      ...r.engines.map(
        (e) =>
          `| ${e.engine} (${e.version ?? '?'}) | ${e.upMs.median} (${e.upMs.min}-${e.upMs.max}) | ${e.emulatedUpMs.median} (${e.emulatedUpMs.min}-${e.emulatedUpMs.max}) | ${e.upRatio}x | ${e.downMs} | ${e.emulatedDownMs} | ${e.daemonPeakRssMiB ?? '—'} | ${Object.entries(
            e.phasesMs ?? {},
          )
            .map(([k, v]) => `${k} ${v}`)
            .join('; ')} | ${e.loadAverage ?? '—'} |`,
      ),
      '',
    );
  }
  const vm = r.vmNodes;
  if (vm && !Array.isArray(vm)) {
    const cpu = (s?: number) => (s === undefined ? '—' : String(s));
    lines.push(
      `| qemu provider, a guest per node (${vm.kernel}) | accel | lab up ms | guests' CPU s at up | peak RSS MiB per guest | down ms | verdicts equal to netns in one guest |`,
      '|---|---|---|---|---|---|---|',
      ...vm.docker1090.map(
        (d, i) =>
          `| docker-1090, 3 guests | ${d.accel ?? '?'} | ${d.upMs} | ${cpu(d.upGuestCpuS)} | ${Object.entries(d.peakRssMiB)
            .map(([n, v]) => `${n} ${v ?? '?'}`)
            .join(', ')} | ${d.downMs} | ${vm.sameAsNetns[i] ?? '?'}/${vm.netnsVerdicts.length} |`,
      ),
      `| line of ${vm.line10.nodes} nodes | ${vm.docker1090[0]?.accel ?? '?'} | ${vm.line10.upMs} | ${cpu(vm.line10.upGuestCpuS)} | — | ${vm.line10.downMs} | — |`,
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The same tables and the charts inline, as one self-contained page. */
export function renderHtml(r: Result): string {
  const md = renderMarkdown(r).split('\n');
  const body: string[] = [];
  let table: string[] = [];
  const flush = () => {
    if (!table.length) return;
    const rows = table
      .filter((l) => !/^\|[-|]+\|$/.test(l))
      .map((l) =>
        l
          .slice(1, -1)
          .split('|')
          .map((c) => c.trim()),
      );
    body.push(
      '<table>',
      `<tr>${rows[0]!.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>`,
      ...rows.slice(1).map((row) => `<tr>${row.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`),
      '</table>',
    );
    table = [];
  };
  const svgs = charts(r);
  for (const line of md) {
    if (line.startsWith('|')) table.push(line);
    else {
      flush();
      const chart = /^!\[(.+)\]\(.+\)$/.exec(line);
      if (chart) body.push(`<figure>${svgs[chart[1]!]}</figure>`);
      else if (line.trim()) body.push(`<p>${esc(line)}</p>`);
    }
  }
  flush();
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>lab benchmarks</title><style>body{font-family:sans-serif;max-width:1000px;margin:2em auto}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}</style></head><body>\n<h1>lab benchmarks</h1>\n${body.join('\n')}\n</body></html>\n`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
