/**
 * Packets seen at several hops tied together: IP ID, protocol and TCP sequence numbers survive routing and NAT,
 * addresses and ports do not. The packets themselves are read by run/pcap.ts, the one reader of captures.
 */
import type { Packet } from '../run/pcap.js';

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
    const key = `${p.id}|${p.proto}|${p.seq ?? ''}|${p.flags}|${p.len}|${p.icmp ?? ''}`;
    const list = byKey.get(key);
    // A sighting more than a second later, or at a hop already seen, is a retransmission: a new journey.
    if (list && p.t - list.at(-1)!.t < 1 && !list.some((s) => s.hop === p.hop)) list.push(p);
    else byKey.set(list ? `${key}#${p.t}` : key, [p]);
  }
  return [...byKey.entries()].map(([key, sightings]) => ({ key, sightings })).sort((a, b) => a.sightings[0]!.t - b.sightings[0]!.t);
}

export function label(p: Packet): string {
  const ends = p.sport !== null ? `${p.src}:${p.sport} → ${p.dst}:${p.dport}` : `${p.src} → ${p.dst}`;
  if (p.proto === 'tcp') return `${ends} [${p.flags}]${p.len ? ` len ${p.len}` : ''}${p.seq !== null ? ` seq ${p.seq}` : ''}`;
  if (p.proto === 'udp') return `${ends} UDP len ${p.len}`;
  if (p.proto === 'icmp') return `${ends} ICMP ${p.icmp}`;
  return ends;
}

/** What a person needs to see: handshakes, resets, ICMP errors, marked (forged or late) segments, and what led to a reset. */
export function interesting(journeys: Journey[], max = 40): Journey[] {
  if (journeys.length <= max) return journeys;
  const keep = new Set<number>();
  journeys.forEach((j, i) => {
    const p = j.sightings[0]!;
    const notable = p.flags.includes('SYN') || p.flags.includes('FIN') || p.flags.includes('RST') || p.proto === 'icmp' || p.tos !== 0;
    if (notable) keep.add(i);
    if (p.flags.includes('RST') || p.proto === 'icmp') for (let k = Math.max(0, i - 3); k < i; k++) keep.add(k);
  });
  const picked = [...keep].sort((a, b) => a - b).map((i) => journeys[i]!);
  return picked.length ? picked.slice(0, max) : journeys.slice(0, max);
}
