/** The bench results as the Markdown table the README shows. */
interface Result {
  machine: { kernel: string; cpus: number; cpuModel: string | null; memoryGiB: number; node: string };
  measuredAt: string;
  repetitions: number;
  labs: Array<{ name: string; upMs: number; runMs: number; downMs: number }>;
  topologies: Array<{ shape: string; nodes: number; lab: { upMs: number | null; downMs: number | null; upPerNodeMs: number }; floor: { upMs: number | null; downMs: number | null }; mininet: { upMs: number | null; downMs: number | null } }>;
  instances: Array<{ n: number; upMs: number; runMs: number; downMs: number; rssMiB: number; runsFullyDecided: number }>;
  kernels?: Array<{ kernel: string; release: string | null; bootToFirstCommandMs: number | null; upMs: number; docker1090VariantsMs: number; downMs: number; qemuPeakRssMiB: number | null }>;
}

const ratio = (a: number | null, b: number | null) => (a !== null && b ? `${(a / b).toFixed(1)}×` : '—');
const ms = (v: number | null) => (v === null ? '—' : String(v));

export function renderMarkdown(r: Result): string {
  const lines = [
    `Measured ${r.measuredAt} on ${r.machine.cpus} cores (${r.machine.cpuModel ?? '?'}), ${r.machine.memoryGiB} GiB, kernel ${r.machine.kernel}, Node ${r.machine.node}; medians of ${r.repetitions} repetitions, milliseconds.`,
    '',
  ];
  if (r.labs.length) {
    lines.push('| lab | up | run | down |', '|---|---|---|---|', ...r.labs.map((l) => `| ${l.name} | ${l.upMs} | ${l.runMs} | ${l.downMs} |`), '');
  }
  if (r.topologies.length) {
    lines.push(
      '| topology | nodes | lab up | lab down | per node (up) | floor up | floor down | mininet up | mininet down | lab/floor (up) | lab/mininet (up) |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
      ...r.topologies.map((t) => `| ${t.shape} | ${t.nodes} | ${ms(t.lab.upMs)} | ${ms(t.lab.downMs)} | ${t.lab.upPerNodeMs} | ${ms(t.floor.upMs)} | ${ms(t.floor.downMs)} | ${ms(t.mininet.upMs)} | ${ms(t.mininet.downMs)} | ${ratio(t.lab.upMs, t.floor.upMs)} | ${ratio(t.lab.upMs, t.mininet.upMs)} |`),
      '',
    );
  }
  if (r.instances.length) {
    lines.push(
      '| docker-1090 instances | up (all, concurrent) | run (all, concurrent) | down | peak RSS MiB | runs fully decided |',
      '|---|---|---|---|---|---|',
      ...r.instances.map((i) => `| ${i.n} | ${i.upMs} | ${i.runMs} | ${i.downMs} | ${i.rssMiB} | ${i.runsFullyDecided}/${i.n} |`),
      '',
    );
  }
  if (r.kernels?.length) {
    lines.push(
      '| kernel (QEMU, TCG) | boot to first command | lab up | docker-1090 variants | down | QEMU peak RSS MiB |',
      '|---|---|---|---|---|---|',
      ...r.kernels.map((k) => `| ${k.kernel} (${k.release ?? '?'}) | ${ms(k.bootToFirstCommandMs)} | ${k.upMs} | ${k.docker1090VariantsMs} | ${k.downMs} | ${k.qemuPeakRssMiB ?? '—'} |`),
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}
