/**
 * Packets seen at several hops tied together: IP ID, protocol and TCP sequence numbers survive routing and NAT,
 * addresses and ports do not. The packets themselves are read by run/pcap.ts, the one reader of captures.
 */
import type { Packet } from '../run/pcap.js';
import { phaseAt, type Moment, type PhaseWindow } from './timeline.js';

// What html.ts and ladder.ts read packets with.
export { readCaptureGroups, type CaptureRef, type Packet } from '../run/pcap.js';

/** The same packet seen at several hops, in the order it was seen. */
export interface Journey {
  key: string;
  sightings: Packet[];
}

export function correlate(packets: Packet[]): Journey[] {
  const byKey = new Map<string, Packet[]>();
  for (const p of [...packets].sort((a, b) => a.t - b.t)) {
    const key = `${p.id}|${p.proto}|${p.seq ?? ''}|${p.flags}|${p.len}|${p.icmp ?? ''}|${p.fragment?.offset ?? ''}`;
    const list = byKey.get(key);
    // A sighting more than a second later, or at a hop already seen, is a retransmission: a new journey.
    if (list && p.t - list.at(-1)!.t < 1 && !list.some((s) => s.hop === p.hop)) list.push(p);
    else byKey.set(list ? `${key}#${p.t}` : key, [p]);
  }
  return [...byKey.entries()].map(([key, sightings]) => ({ key, sightings })).sort((a, b) => a.sightings[0]!.t - b.sightings[0]!.t);
}

export function label(p: Packet): string {
  const ends = p.sport !== null ? `${p.src}:${p.sport} → ${p.dst}:${p.dport}` : `${p.src} → ${p.dst}`;
  if (p.fragment) {
    const what = `IP fragment id ${p.id} offset ${p.fragment.offset}${p.fragment.more ? ' MF' : ''}`;
    return `${ends} ${what} (${p.proto === 'other' ? 'IP' : p.proto.toUpperCase()}${p.fragment.offset === 0 && p.len ? ` len ${p.len}` : ''})`;
  }
  if (p.proto === 'tcp') return `${ends} [${p.flags}]${p.len ? ` len ${p.len}` : ''}${p.seq !== null ? ` seq ${p.seq}` : ''}`;
  if (p.proto === 'udp') return `${ends} UDP len ${p.len}`;
  if (p.proto === 'icmp') return `${ends} ICMP ${p.icmp}`;
  return ends;
}

function notable(p: Packet): boolean {
  return p.flags.includes('SYN') || p.flags.includes('FIN') || p.flags.includes('RST') || p.proto === 'icmp' || p.tos !== 0;
}

/** A row of the ladder: a packet's journey, a phase beginning, a marked moment, or packets left out. */
export type LadderRow =
  { kind: 'packet'; journey: Journey } | { kind: 'phase'; name: string } | { kind: 'moment'; label: string } | { kind: 'gap'; count: number };

/**
 * What a person needs to see, at most max packets: the first and last k of each phase (of the whole capture when there
 * are no phases), the k before and after each marked moment, then handshakes, resets, ICMP errors, marked segments
 * and the 3 packets before a reset or an ICMP error. Packets left out between two kept ones are one "gap" row.
 */
export function ladderRows(journeys: Journey[], phases: PhaseWindow[] = [], moments: Moment[] = [], k = 4, max = 60): LadderRow[] {
  const t = (j: Journey) => j.sightings[0]!.t;
  const keep = new Set<number>();
  const add = (indices: number[]) => indices.forEach((i) => keep.size < max && i >= 0 && i < journeys.length && keep.add(i));
  const edges = (indices: number[]) => add([...indices.slice(0, k), ...indices.slice(-k)]);
  const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
  const indexAt = (time: number) => {
    const i = journeys.findIndex((j) => t(j) >= time);
    return i < 0 ? journeys.length : i;
  };
  if (journeys.length <= max) add(range(0, journeys.length));
  for (const m of moments) {
    const i = indexAt(m.t);
    add(range(i - k, i + k));
  }
  if (phases.length) for (const p of phases) edges(range(indexAt(p.start), indexAt(p.end)));
  edges(range(0, journeys.length));
  journeys.forEach((j, i) => {
    const p = j.sightings[0]!;
    if (notable(p)) add([i]);
    if (p.flags.includes('RST') || p.proto === 'icmp') add(range(i - 3, i));
  });
  const rows: LadderRow[] = [];
  const pending = [...moments].sort((a, b) => a.t - b.t);
  let [last, phase] = [-1, null as string | null];
  for (const i of [...keep].sort((a, b) => a - b)) {
    if (i - last > 1) rows.push({ kind: 'gap', count: i - last - 1 });
    const here = phaseAt(phases, t(journeys[i]!));
    if (here !== null && here !== phase) rows.push({ kind: 'phase', name: here });
    phase = here;
    while (pending.length && pending[0]!.t <= t(journeys[i]!)) rows.push({ kind: 'moment', label: pending.shift()!.label });
    rows.push({ kind: 'packet', journey: journeys[i]! });
    last = i;
  }
  if (journeys.length - last > 1) rows.push({ kind: 'gap', count: journeys.length - last - 1 });
  return rows;
}
