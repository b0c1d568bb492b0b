/** The figures issue #13 asks for, each next to its target; `met` is null when the bench did not measure it. */
interface Measured {
  topologies: Array<{
    shape: string;
    nodes: number;
    lab: { upMs: number | null; downMs: number | null };
    floor: { upMs: number | null };
    mininet: { upMs: number | null; downMs: number | null };
  }>;
  verdicts: Array<{ name: string; concurrentVsOneVariant: number; concurrentVsSerial: number; verdictsAgree: boolean }>;
  instances: Array<{ n: number; runsAsExpected: number }>;
  cli: { vsNode: Record<string, { ratio: number }>; upDocker1090: { median: number } } | null;
}

export interface Ratio {
  what: string;
  value: number | null;
  target: string;
  met: boolean | null;
}

const round = (x: number) => Math.round(x * 100) / 100;
const atMost = (what: string, value: number | null | undefined, max: number, unit = '×'): Ratio => ({
  what,
  value: value ?? null,
  target: `≤ ${max}${unit}`,
  met: value == null ? null : value <= max,
});
const atLeast = (what: string, value: number | null | undefined, min: number): Ratio => ({
  what,
  value: value ?? null,
  target: `≥ ${min}×`,
  met: value == null ? null : value >= min,
});
const div = (a: number | null | undefined, b: number | null | undefined) => (a == null || !b ? null : round(a / b));

export function ratiosOf(r: Measured): Ratio[] {
  const out: Ratio[] = [];
  const d1090 = r.verdicts.find((v) => v.name === 'docker-1090');
  out.push(atMost('docker-1090: all variants at once / one variant (time to verdict)', d1090?.concurrentVsOneVariant, 1.5));
  for (const v of r.verdicts)
    out.push({
      what: `${v.name}: verdicts equal in every serial and concurrent run`,
      value: v.verdictsAgree ? 1 : 0,
      target: 'all equal',
      met: v.verdictsAgree,
    });
  const ten = r.instances.find((i) => i.n === 10);
  out.push({
    what: 'docker-1090 on 10 instances at once: runs with every verdict as the lab file expects (lab run --check)',
    value: ten?.runsAsExpected ?? null,
    target: '10 of 10',
    met: ten ? ten.runsAsExpected === 10 : null,
  });
  for (const c of ['list', 'status', 'validate']) out.push(atMost(`lab ${c} / node -e 0 (wall)`, r.cli?.vsNode[c]?.ratio, 2));
  out.push(atMost('lab up docker-1090 (wall, ms)', r.cli?.upDocker1090.median, 500, ' ms'));
  for (const shape of ['line', 'star']) {
    const of = (n: number) => r.topologies.find((t) => t.shape === shape && t.nodes === n);
    const t200 = of(200);
    out.push(atMost(`${shape} 200: lab up / ip -batch floor up`, div(t200?.lab.upMs, t200?.floor.upMs), 1.5));
    const mn = t200 && t200.mininet.upMs !== null && t200.mininet.downMs !== null ? t200.mininet.upMs + t200.mininet.downMs : null;
    const lab = t200 && t200.lab.upMs !== null && t200.lab.downMs !== null ? t200.lab.upMs + t200.lab.downMs : null;
    out.push(atLeast(`${shape} 200: Mininet up+down / lab up+down`, div(mn, lab), 5));
    const sizes = r.topologies.filter((t) => t.shape === shape && t.lab.downMs !== null).sort((a, b) => a.nodes - b.nodes);
    if (sizes.length >= 2) {
      const [small, large] = [sizes[0]!, sizes.at(-1)!];
      out.push(atMost(`${shape}: lab down at ${large.nodes} nodes / at ${small.nodes} nodes (flat in nodes)`, div(large.lab.downMs, small.lab.downMs), 2));
    }
  }
  return out;
}
