/** A packet ladder per variant: one lane per capture point, one row per packet, arrows across the hops it crossed. */
import path from 'node:path';
import type { ResolvedLab } from '../lab/model.js';
import { correlate, label, ladderRows, type CaptureRef, type LadderRow, type Packet } from './packets.js';
import type { Moment, PhaseWindow } from './timeline.js';
import { esc, svgDoc, text } from './svg.js';

export interface CaptureFile {
  /** Path relative to the run folder. */
  file: string;
  /** Packets the capture holds, as its evidence counts them. */
  captured?: number | null;
}

const LANE_W = 170;
/** Width of one character of a packet label (11px sans-serif, rounded up), to size the label column. */
const CHAR_W = 6.6;
const ROW_H = 34;

/** Lanes ordered along the path: the capture point of the node nearest the first container first. */
function laneOrder(lab: ResolvedLab, hops: string[]): string[] {
  const start = lab.nodes.find((n) => n.kind === 'container')?.name ?? lab.nodes[0]?.name;
  const dist = new Map<string, number>();
  if (start) dist.set(start, 0);
  const queue = start ? [start] : [];
  while (queue.length) {
    const cur = queue.shift()!;
    const node = lab.nodes.find((n) => n.name === cur);
    const neighbours = [
      ...(node?.interfaces.map((i) => i.peer?.node).filter(Boolean) as string[]),
      ...lab.nodes.filter((n) => n.host === cur).map((n) => n.name),
    ];
    for (const nb of neighbours) {
      if (!dist.has(nb)) {
        dist.set(nb, dist.get(cur)! + 1);
        queue.push(nb);
      }
    }
  }
  const nodeOf = (hop: string) =>
    lab.nodes
      .map((n) => n.name)
      .sort((a, b) => b.length - a.length)
      .find((n) => hop.startsWith(`${n}-`)) ?? hop;
  const bridgeFirst = (hop: string) => (/docker0|br/.test(hop) ? 0 : 1);
  return [...hops].sort((a, b) => (dist.get(nodeOf(a)) ?? 99) - (dist.get(nodeOf(b)) ?? 99) || bridgeFirst(a) - bridgeFirst(b));
}

/** Where a variant's captures are on disk and the hop each one is, named after its file. */
export function captureRefs(runDir: string, captures: CaptureFile[]): CaptureRef[] {
  return captures.map((c) => ({ file: path.join(runDir, c.file), hop: path.basename(c.file, '.pcap') }));
}

/** The ladder of one variant from its captures' packets (read for every variant at once: readCaptureGroups). */
export function ladderFor(
  lab: ResolvedLab,
  variant: string,
  captures: CaptureFile[],
  packets: Packet[],
  phases: PhaseWindow[] = [],
  moments: Moment[] = [],
): { svg: string; packets: number; shown: number } | null {
  if (captures.length === 0 || packets.length === 0) return null;
  const lanes = laneOrder(
    lab,
    captures.map((c) => path.basename(c.file, '.pcap')),
  );
  const rows = ladderRows(correlate(packets), phases, moments);
  return { svg: ladderSvg(`${lab.name} ${variant}`, lanes, rows), packets: packets.length, shown: rows.filter((r) => r.kind === 'packet').length };
}

export function ladderSvg(title: string, lanes: string[], rows: LadderRow[]): string {
  const x = (hop: string) => 40 + lanes.indexOf(hop) * LANE_W + LANE_W / 2;
  const height = 70 + rows.length * ROW_H + 20;
  const journeys = rows.flatMap((r) => (r.kind === 'packet' ? [r.journey] : []));
  const t0 = journeys[0]?.sightings[0]?.t ?? 0;
  // Labels sit in their own column right of the lanes, so they never run across a lane or an arrow.
  const labelX = 40 + lanes.length * LANE_W + 10;
  const [left, right] = [40, 40 + lanes.length * LANE_W];
  const labelOf = (r: LadderRow) => {
    if (r.kind === 'gap') return `… ${r.count} packet${r.count === 1 ? '' : 's'} …`;
    if (r.kind === 'phase') return `phase ${r.name}`;
    if (r.kind === 'moment') return `▶ ${r.label}`;
    const j = r.journey;
    const [first, last] = [j.sightings[0]!, j.sightings.at(-1)!];
    const translated = last !== first && (last.src !== first.src || last.dst !== first.dst) ? `  ⇒ ${last.src} → ${last.dst}` : '';
    return `+${((first.t - t0) * 1000).toFixed(1)} ms  ${label(first)}${translated}`;
  };
  const width = Math.ceil(labelX + Math.max(0, ...rows.map((r) => labelOf(r).length)) * CHAR_W + 20);
  const body: string[] = [];
  lanes.forEach((lane) => {
    body.push(`<line class="lane" x1="${x(lane)}" y1="40" x2="${x(lane)}" y2="${height - 10}" stroke="#999"/>`);
    body.push(text(x(lane), 28, lane, 'font-weight="bold" text-anchor="middle"'));
  });
  rows.forEach((r, row) => {
    const y = 60 + row * ROW_H;
    if (r.kind !== 'packet') {
      const [cls, color, dash] = r.kind === 'gap' ? ['gap', '#999', '1,4'] : r.kind === 'phase' ? ['phase', '#2b6cb0', '6,3'] : ['moment', '#c53030', '4,2'];
      body.push(`<line class="${cls}" x1="${left}" y1="${y}" x2="${right}" y2="${y}" stroke="${color}" stroke-dasharray="${dash}"/>`);
      body.push(
        text(
          labelX,
          y + 4,
          labelOf(r),
          `class="${cls}-label" fill="${color}" font-size="11"${r.kind === 'gap' ? ' font-style="italic"' : ' font-weight="bold"'}`,
        ),
      );
      return;
    }
    const j = r.journey;
    const first = j.sightings[0]!;
    const last = j.sightings.at(-1)!;
    const color =
      first.flags.includes('RST') || first.proto === 'icmp' ? '#c53030' : first.tos !== 0 ? '#dd6b20' : first.flags.includes('SYN') ? '#2b6cb0' : '#444';
    const cls = first.flags.includes('RST') ? 'rst' : first.proto === 'icmp' ? 'icmp' : first.tos !== 0 ? 'marked' : first.fragment ? 'fragment' : 'packet';
    const [x1, x2] = [x(first.hop), x(last.hop)];
    if (x1 !== x2) body.push(`<line class="${cls}" x1="${x1}" y1="${y}" x2="${x2}" y2="${y}" stroke="${color}" stroke-width="2" marker-end="url(#arrow)"/>`);
    for (const s of j.sightings) body.push(`<circle cx="${x(s.hop)}" cy="${y}" r="4" fill="${color}"><title>${esc(`${s.hop}: ${label(s)}`)}</title></circle>`);
    body.push(`<line class="leader" x1="${x(lanes.at(-1)!) + 8}" y1="${y}" x2="${labelX - 4}" y2="${y}" stroke="#ddd" stroke-dasharray="2,3"/>`);
    body.push(text(labelX, y + 4, labelOf(r), `fill="${color}" font-size="11"`));
  });
  return svgDoc(width, height, body, `packet ladder: ${title}`);
}
