/**
 * A capture point's packets over time: packets per interval per flow, the scenario's phase windows shaded, and the
 * moments the evidence marks (a reset, an ICMP error, an agent's error, a datagram of an old flow after a phase began).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Packet } from './packets.js';
import { esc, svgDoc, text } from './svg.js';

export interface PhaseWindow {
  name: string;
  start: number;
  end: number;
}

export interface Moment {
  t: number;
  label: string;
}

/** Interval lengths a person reads easily, in seconds. */
const STEPS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600];

/** The shortest readable interval that cuts the duration into at most maxBuckets. */
export function intervalFor(duration: number, maxBuckets = 60): number {
  return STEPS.find((s) => Math.ceil(duration / s) <= maxBuckets) ?? Math.ceil(duration / maxBuckets);
}

export function intervalText(seconds: number): string {
  return seconds < 1 ? `${Math.round(seconds * 1000)} ms` : `${seconds} s`;
}

/** A flow as the timeline counts it: protocol, source address and destination (port when the packet has one). */
export function flowOf(p: Packet): string {
  const proto = p.proto === 'other' ? 'IP' : p.proto.toUpperCase();
  return `${proto} ${p.src} → ${p.dst}${p.dport !== null ? `:${p.dport}` : ''}${p.fragment && p.dport === null ? ' (fragments)' : ''}`;
}

/** The declared scenario's phase windows from a variant's evidence; anything else (a built-in scenario's phases) gives none. */
export function phasesOf(evidence: Record<string, unknown>): PhaseWindow[] {
  const phases = evidence.phases;
  if (!Array.isArray(phases)) return [];
  return phases.filter(
    (p): p is PhaseWindow =>
      !!p && typeof p === 'object' && typeof p.name === 'string' && Number.isFinite(p.start) && Number.isFinite(p.end) && p.end >= p.start,
  );
}

/** The phase a time falls in, or null outside every window. */
export function phaseAt(phases: PhaseWindow[], t: number): string | null {
  return phases.find((p) => p.start <= t && t < p.end)?.name ?? null;
}

const AGENT_FAILURES = new Set(['socket_error', 'error', 'rst', 'no_reply', 'missed', 'conntrack_failed']);

/**
 * Moments to mark, from the packets and the agents' logs: the first reset and the first ICMP error seen, each agent's
 * first error event of a kind, and, for each phase after the first, the first UDP datagram of a flow that was already
 * flowing before it began (a datagram still following an old path: a stale NAT binding, say).
 */
export function momentsOf(packets: Packet[], phases: PhaseWindow[], agentLogs: Array<{ name: string; file: string }> = []): Moment[] {
  const moments: Moment[] = [];
  const sorted = [...packets].sort((a, b) => a.t - b.t);
  const rst = sorted.find((p) => p.flags.includes('RST'));
  if (rst) moments.push({ t: rst.t, label: `first RST (${rst.hop})` });
  const icmp = sorted.find((p) => p.proto === 'icmp' && p.icmp !== null && !/^echo/.test(p.icmp));
  if (icmp) moments.push({ t: icmp.t, label: `first ICMP ${icmp.icmp} (${icmp.hop})` });
  for (const phase of phases.slice(1)) {
    const before = new Set(sorted.filter((p) => p.t < phase.start && p.proto === 'udp').map((p) => `${p.hop}|${flowOf(p)}`));
    const stale = sorted.find((p) => p.t >= phase.start && p.t < phase.end && before.has(`${p.hop}|${flowOf(p)}`));
    if (stale && !moments.some((m) => m.t === stale.t))
      moments.push({ t: stale.t, label: `${phase.name}: first datagram of an earlier flow, still to ${stale.dst} (${stale.hop})` });
  }
  for (const log of agentLogs) moments.push(...agentMoments(log.name, log.file));
  return moments.sort((a, b) => a.t - b.t);
}

function agentMoments(name: string, file: string): Moment[] {
  let content: string;
  try {
    content = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const seen = new Set<string>();
  const out: Moment[] = [];
  for (const line of content.split('\n')) {
    let event: { event?: unknown; t?: unknown; error?: unknown; errno?: unknown };
    try {
      event = JSON.parse(line) as typeof event;
    } catch {
      continue;
    }
    if (typeof event.event !== 'string' || typeof event.t !== 'number' || !AGENT_FAILURES.has(event.event) || seen.has(event.event)) continue;
    seen.add(event.event);
    const why = typeof event.error === 'string' ? `: ${event.error}` : typeof event.errno === 'string' ? `: ${event.errno}` : '';
    out.push({ t: event.t, label: `${name}: ${event.event}${why}`.slice(0, 80) });
  }
  return out;
}

/** The agents' logs of a variant (evidence.agentLogs, relative to the run folder), each named after its file. */
export function agentLogsOf(runDir: string, evidence: Record<string, unknown>): Array<{ name: string; file: string }> {
  const logs = Array.isArray(evidence.agentLogs) ? evidence.agentLogs.filter((l): l is string => typeof l === 'string') : [];
  return logs.map((l) => ({ name: path.basename(l, '.jsonl'), file: path.join(runDir, l) }));
}

export interface FlowSeries {
  flow: string;
  total: number;
  counts: number[];
  /** The legend's words for the series; "<total> packets" when not given. */
  note?: string;
}

export interface Timeline {
  hop: string;
  t0: number;
  interval: number;
  buckets: number;
  flows: FlowSeries[];
  phases: PhaseWindow[];
  moments: Moment[];
  /** What the picture counts, under its axis; packets per interval at the capture point when not given. */
  caption?: string;
  /** Packets the capture holds when more than were read (the report reads the first of a large capture). */
  captured?: number;
}

/** Packets of one capture point counted per interval and flow; the busiest flows each get a line, the rest one line. */
export function buildTimeline(hop: string, packets: Packet[], phases: PhaseWindow[], moments: Moment[], maxFlows = 6): Timeline | null {
  const mine = packets.filter((p) => p.hop === hop);
  if (mine.length === 0) return null;
  const times = [...mine.map((p) => p.t), ...phases.flatMap((p) => [p.start, p.end])];
  const t0 = Math.min(...times);
  const interval = intervalFor(Math.max(...times) - t0 || 0.001);
  const buckets = Math.floor((Math.max(...times) - t0) / interval + 1e-9) + 1;
  const byFlow = new Map<string, number[]>();
  for (const p of mine) {
    const counts = byFlow.get(flowOf(p)) ?? new Array<number>(buckets).fill(0);
    // The epsilon keeps a packet sent exactly on a boundary (100 + 3 × 0.1) out of the interval before it.
    counts[Math.min(buckets - 1, Math.floor((p.t - t0) / interval + 1e-9))]!++;
    byFlow.set(flowOf(p), counts);
  }
  const all = [...byFlow.entries()].map(([flow, counts]) => ({ flow, counts, total: counts.reduce((a, b) => a + b, 0) })).sort((a, b) => b.total - a.total);
  const flows = all.slice(0, all.length > maxFlows ? maxFlows - 1 : maxFlows);
  const rest = all.slice(flows.length);
  if (rest.length) {
    const counts = new Array<number>(buckets).fill(0);
    rest.forEach((r) => r.counts.forEach((c, i) => (counts[i]! += c)));
    flows.push({ flow: `${rest.length} other flows`, counts, total: counts.reduce((a, b) => a + b, 0) });
  }
  const t1 = t0 + buckets * interval;
  return { hop, t0, interval, buckets, flows, phases, moments: moments.filter((m) => m.t >= t0 && m.t <= t1) };
}

const COLORS = ['#2b6cb0', '#dd6b20', '#38a169', '#805ad5', '#d53f8c', '#718096'];
const PHASE_FILLS = ['#ebf8ff', '#fefcbf', '#f0fff4', '#faf5ff'];
const CHAR_W = 6.6;

/** Labels on rows so that none runs into the one before it on its row. */
function stagger(items: Array<{ x: number; width: number }>): number[] {
  const ends: number[] = [];
  return items.map((item) => {
    let row = ends.findIndex((end) => item.x > end + 6);
    if (row < 0) row = ends.length;
    ends[row] = item.x + item.width;
    return row;
  });
}

export function timelineSvg(tl: Timeline): string {
  const [left, width] = [60, 800];
  const span = tl.buckets * tl.interval;
  const x = (t: number) => left + ((t - tl.t0) / span) * width;
  const phaseLabels = tl.phases.map((p) => ({ x: Math.max(left, x(p.start)) + 2, width: p.name.length * CHAR_W, name: p.name, p }));
  const phaseRows = stagger(phaseLabels);
  const top = 20 + (Math.max(-1, ...phaseRows) + 1) * 14;
  const plotH = 140;
  const bottom = top + plotH;
  const momentLabels = tl.moments.map((m) => {
    const w = m.label.length * CHAR_W;
    return { x: Math.max(left, Math.min(x(m.t) + 3, left + width + 200 - w)), width: w, m };
  });
  const momentRows = stagger(momentLabels);
  const momentsTop = bottom + 34;
  const legendTop = momentsTop + (Math.max(-1, ...momentRows) + 1) * 14 + 10;
  const height = legendTop + tl.flows.length * 16 + 10;
  // Stacked: each flow's band sits on the ones before it, so flows with the same counts stay visible.
  const below = tl.flows.map((_, i) => Array.from({ length: tl.buckets }, (_, b) => tl.flows.slice(0, i).reduce((sum, f) => sum + f.counts[b]!, 0)));
  const max = Math.max(1, ...Array.from({ length: tl.buckets }, (_, b) => tl.flows.reduce((sum, f) => sum + f.counts[b]!, 0)));
  const y = (count: number) => bottom - (count / max) * plotH;
  const body: string[] = [];
  tl.phases.forEach((p, i) => {
    const [x1, x2] = [x(p.start), x(p.end)];
    body.push(
      `<rect class="phase" x="${x1.toFixed(1)}" y="${top}" width="${Math.max(1, x2 - x1).toFixed(1)}" height="${plotH}" fill="${PHASE_FILLS[i % PHASE_FILLS.length]}" stroke="#a0aec0" stroke-dasharray="3,2"><title>${esc(`phase ${p.name}: +${(p.start - tl.t0).toFixed(3)} s to +${(p.end - tl.t0).toFixed(3)} s`)}</title></rect>`,
    );
  });
  phaseLabels.forEach((l, i) => body.push(text(l.x, 14 + phaseRows[i]! * 14, l.name, 'class="phase-label" font-size="11" fill="#2d3748"')));
  body.push(`<line x1="${left}" y1="${bottom}" x2="${left + width}" y2="${bottom}" stroke="#444"/>`);
  body.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#444"/>`);
  body.push(text(left - 6, top + 10, String(max), 'text-anchor="end" font-size="10"'));
  body.push(text(left - 6, bottom, '0', 'text-anchor="end" font-size="10"'));
  // Ticks at a readable step, about five of them.
  const tick = intervalFor(span, 6);
  for (let t = 0; t <= span + 1e-9; t += tick) {
    const anchor = t === 0 ? 'start' : x(tl.t0 + t) > left + width - 20 ? 'end' : 'middle';
    body.push(`<line x1="${x(tl.t0 + t).toFixed(1)}" y1="${bottom}" x2="${x(tl.t0 + t).toFixed(1)}" y2="${bottom + 4}" stroke="#444"/>`);
    body.push(text(x(tl.t0 + t), bottom + 14, `+${Number(t.toFixed(3))} s`, `text-anchor="${anchor}" font-size="10"`));
  }
  body.push(
    text(
      left,
      bottom + 28,
      tl.caption ?? `packets per ${intervalText(tl.interval)} at ${tl.hop}, flows stacked (peak ${max})${readOf(tl)}`,
      'font-size="10" fill="#555"',
    ),
  );
  tl.flows.forEach((f, i) => {
    const step = (values: number[]) =>
      values.flatMap((c, b) => [
        `${x(tl.t0 + b * tl.interval).toFixed(1)},${y(c).toFixed(1)}`,
        `${x(tl.t0 + (b + 1) * tl.interval).toFixed(1)},${y(c).toFixed(1)}`,
      ]);
    const upper = step(f.counts.map((c, b) => c + below[i]![b]!));
    const lower = step(below[i]!).reverse();
    body.push(
      `<polygon class="flow" points="${[...upper, ...lower].join(' ')}" fill="${COLORS[i % COLORS.length]}" fill-opacity="0.55" stroke="${COLORS[i % COLORS.length]}" stroke-width="1"><title>${esc(`${f.flow}: ${f.note ?? `${f.total} packets`}`)}</title></polygon>`,
    );
    const ly = legendTop + i * 16;
    body.push(`<rect x="${left}" y="${ly - 9}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/>`);
    body.push(text(left + 16, ly, `${f.flow}: ${f.note ?? `${f.total} packets`}`, 'class="legend" font-size="11"'));
  });
  // The phase edges again over the flows, which cover the shading where the traffic is dense.
  for (const t of [...new Set(tl.phases.flatMap((p) => [p.start, p.end]))])
    body.push(`<line class="phase-edge" x1="${x(t).toFixed(1)}" y1="${top}" x2="${x(t).toFixed(1)}" y2="${bottom}" stroke="#4a5568" stroke-dasharray="3,2"/>`);
  momentLabels.forEach((l, i) => {
    const mx = x(l.m.t);
    body.push(
      `<line class="moment" x1="${mx.toFixed(1)}" y1="${top}" x2="${mx.toFixed(1)}" y2="${momentsTop + momentRows[i]! * 14 - 10}" stroke="#c53030" stroke-width="1.5" stroke-dasharray="4,2"/>`,
    );
    body.push(text(l.x, momentsTop + momentRows[i]! * 14, l.m.label, 'class="moment-label" font-size="11" fill="#c53030"'));
  });
  return svgDoc(left + width + 210, height, body, `flow timeline: ${tl.hop}`);
}

/** "; the first N of M captured" when the report read only the first packets of a large capture. */
function readOf(tl: Timeline): string {
  const read = tl.flows.reduce((sum, f) => sum + f.total, 0);
  return tl.captured !== undefined && tl.captured > read ? `; the first ${read} of ${tl.captured} captured packets` : '';
}

/** The compact text version: per capture point, per flow, the packets in each phase (and outside every phase); report.md lists the moments once. */
export function timelineLines(tl: Timeline, packets: Packet[]): string[] {
  const mine = packets.filter((p) => p.hop === tl.hop);
  const outside = tl.phases.length ? 'outside phases' : 'packets';
  const columns = [...tl.phases.map((p) => p.name), ...(mine.some((p) => phaseAt(tl.phases, p.t) === null) ? [outside] : [])];
  const lines = [
    `Packets at \`${tl.hop}\` (${mine.length}${readOf(tl)}):`,
    '',
    `| flow | ${columns.join(' | ')} |`,
    `|---|${columns.map(() => '---:|').join('')}`,
  ];
  const count = (match: (p: Packet) => boolean) => columns.map((c) => mine.filter((p) => match(p) && (phaseAt(tl.phases, p.t) ?? outside) === c).length);
  const totals = new Map<string, number>();
  mine.forEach((p) => totals.set(flowOf(p), (totals.get(flowOf(p)) ?? 0) + 1));
  const flows = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([f]) => f);
  const shown = flows.length > 8 ? flows.slice(0, 7) : flows;
  for (const flow of shown) lines.push(`| ${flow} | ${count((p) => flowOf(p) === flow).join(' | ')} |`);
  const rest = new Set(flows.slice(shown.length));
  if (rest.size) lines.push(`| ${rest.size} other flows | ${count((p) => rest.has(flowOf(p))).join(' | ')} |`);
  return [...lines, ''];
}
