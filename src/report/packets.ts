/**
 * Packets of a capture decoded by tshark (Wireshark's dissectors, maintained upstream) rather than
 * by hand, and packets seen at several hops tied together: IP ID, protocol and TCP sequence numbers
 * survive routing and NAT, addresses and ports do not.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from '../transport/process.js';

export interface Packet {
  t: number;
  hop: string;
  id: string;
  src: string;
  dst: string;
  proto: 'tcp' | 'udp' | 'icmp' | 'other';
  sport: number | null;
  dport: number | null;
  flags: string;
  seq: number | null;
  len: number;
  tos: number;
  icmp: string | null;
}

const FIELDS = [
  'frame.time_epoch',
  'ip.id',
  'ip.src',
  'ip.dst',
  'ip.proto',
  'ip.dsfield',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.flags',
  'tcp.seq_raw',
  'tcp.len',
  'udp.srcport',
  'udp.dstport',
  'udp.length',
  'icmp.type',
  'icmp.code',
];

/** Packets of one capture; a file tshark cannot read gives none. */
export async function readPackets(file: string, hop: string, limit = 5000): Promise<Packet[]> {
  const out = await runCommand(tsharkFields(file, limit, []), { check: false, timeoutMs: 120_000 });
  if (out.exitCode !== 0) return [];
  return rows(out.stdout).flatMap((fields) => packetOf(fields, hop));
}

export interface CaptureRef {
  file: string;
  hop: string;
}

/**
 * Packets of several captures with one tshark: its start (about 0.4 s, loading every dissector) cost more than the
 * decoding. mergecap keeps each file's interface apart (-I none), so frame.interface_id says which file a packet is
 * from. When the files cannot be merged or the merge cannot be read (one is truncated, say), each is read alone.
 */
export async function readCaptures(captures: CaptureRef[], limit = 5000): Promise<Packet[]> {
  if (captures.length < 2) return eachAlone(captures, limit);
  return (await readMerged([captures], limit))?.[0] ?? eachAlone(captures, limit);
}

/**
 * Packets of several groups of captures (a run's variants) with one mergecap and one tshark for them all, each group's
 * as readCaptures gives them: a merge keeps every file's packets in their order, whatever else is merged beside them.
 * When the whole cannot be merged or read, each group is read on its own.
 */
export async function readCaptureGroups(groups: CaptureRef[][], limit = 5000): Promise<Packet[][]> {
  const merged = groups.flat().length >= 2 ? await readMerged(groups, limit) : null;
  return merged ?? Promise.all(groups.map((g) => readCaptures(g, limit)));
}

async function eachAlone(captures: CaptureRef[], limit: number): Promise<Packet[]> {
  return (await Promise.all(captures.map((c) => readPackets(c.file, c.hop, limit)))).flat();
}

/** One merge of every group's files, one tshark over it; null when either fails. */
async function readMerged(groups: CaptureRef[][], limit: number): Promise<Packet[][] | null> {
  const files = groups.flatMap((captures, group) => captures.map((c) => ({ ...c, group })));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-ladder-'));
  try {
    const merged = path.join(dir, 'merged.pcapng');
    const merge = await runCommand(['mergecap', '-I', 'none', '-w', merged, ...files.map((c) => c.file)], { check: false, timeoutMs: 120_000 });
    if (merge.exitCode !== 0) return null;
    const out = await runCommand(tsharkFields(merged, limit * files.length, ['frame.interface_id']), { check: false, timeoutMs: 120_000 });
    if (out.exitCode !== 0) return null;
    const packets: Packet[][] = groups.map(() => []);
    const seen = files.map(() => 0);
    for (const [iface, ...fields] of rows(out.stdout)) {
      const index = Number(iface);
      const capture = files[index];
      if (!capture || seen[index]! >= limit) continue;
      seen[index]!++;
      packets[capture.group]!.push(...packetOf(fields, capture.hop));
    }
    return packets;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function tsharkFields(file: string, limit: number, first: string[]): string[] {
  const fields = [...first, ...FIELDS];
  return ['tshark', '-n', '-r', file, '-c', String(limit), '-T', 'fields', '-E', 'separator=,', '-E', 'occurrence=f', ...fields.flatMap((f) => ['-e', f])];
}

function rows(stdout: string): string[][] {
  return stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => l.split(','));
}

function packetOf(fields: string[], hop: string): Packet[] {
  const [t, id, src, dst, proto, ds, tsp, tdp, tflags, tseq, tlen, usp, udp, ulen, itype, icode] = fields;
  if (!src || !dst) return [];
  const p = Number(proto);
  const kind = p === 6 ? 'tcp' : p === 17 ? 'udp' : p === 1 ? 'icmp' : 'other';
  return [
    {
      t: Number(t),
      hop,
      id: id ?? '',
      src,
      dst,
      proto: kind,
      sport: kind === 'tcp' ? Number(tsp) : kind === 'udp' ? Number(usp) : null,
      dport: kind === 'tcp' ? Number(tdp) : kind === 'udp' ? Number(udp) : null,
      flags: kind === 'tcp' ? tcpFlags(Number(tflags)) : '',
      seq: kind === 'tcp' && tseq ? Number(tseq) : null,
      len: kind === 'tcp' ? Number(tlen || 0) : kind === 'udp' ? Number(ulen || 0) - 8 : 0,
      tos: (Number(ds || 0) >> 2) << 2,
      icmp: kind === 'icmp' ? icmpName(Number(itype), Number(icode)) : null,
    },
  ];
}

function tcpFlags(bits: number): string {
  const names: Array<[number, string]> = [
    [0x02, 'SYN'],
    [0x01, 'FIN'],
    [0x04, 'RST'],
    [0x08, 'PSH'],
    [0x10, 'ACK'],
  ];
  return names
    .filter(([b]) => bits & b)
    .map(([, n]) => n)
    .join('|');
}

function icmpName(type: number, code: number): string {
  if (type === 3 && code === 3) return 'port unreachable';
  if (type === 3) return `unreachable (code ${code})`;
  if (type === 8) return 'echo request';
  if (type === 0) return 'echo reply';
  return `type ${type} code ${code}`;
}

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
