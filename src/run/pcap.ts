/**
 * The one reader of packet captures: every verdict, declared measure, exercise check and report reads a pcap here.
 *
 * Verdicts, measures and checks read tcpdump's own lines (-nn -tt -S: numeric, epoch times, absolute sequence numbers):
 * a judge parses TCP segments from them and quotes them in its reasons. A capture that cannot be read is reported as
 * such, never as "no packets"; one whose tcpdump statistics do not prove it was live to the end (captureLiveness) is
 * reported too, so that "no packet matched" is read only from a capture that could have shown one. The report's packet ladder needs what those lines lack (IP ID, DSCP, ICMP type) and reads
 * the same files decoded by tshark (Wireshark's dissectors); test/run/pcap.test.ts holds the two decodings of recorded
 * captures to the same packets, times, flags and sequence numbers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CommandResult, RunOptions } from '../transport/process.js';

export interface TcpSegment {
  t: number;
  src: string;
  dst: string;
  flags: string;
  seq: number | null;
  end: number | null;
  ack: number | null;
  line: string;
}

const SEGMENT = /^(\d+\.\d+) IP (\S+) > (\S+): Flags \[([^\]]*)\](?:, seq (\d+)(?::(\d+))?)?(?:, ack (\d+))?/;

export function parseSegment(line: string): TcpSegment | undefined {
  const m = SEGMENT.exec(line);
  if (!m) return undefined;
  const seq = m[5] === undefined ? null : Number(m[5]);
  const ack = m[7] === undefined ? null : Number(m[7]);
  return { t: Number(m[1]), src: m[2]!, dst: m[3]!.replace(/:$/, ''), flags: m[4]!, seq, end: m[6] === undefined ? seq : Number(m[6]), ack, line };
}

export function hasPayload(s: TcpSegment): boolean {
  return s.seq !== null && s.end !== null && s.end > s.seq;
}

export type LinesRead = { ok: true; lines: string[] } | { ok: false; problem: string };
export type PcapRead = { ok: true; segments: TcpSegment[] } | { ok: false; problem: string };

/** Imported when a capture is read: lab files name scenarios, and loading one (lab list, validate) must not load execa. */
async function runTool(argv: string[], options: RunOptions): Promise<CommandResult> {
  const { runCommand } = await import('../transport/process.js');
  return runCommand(argv, options);
}

type TcpdumpRead = { ok: true; lines: string[] } | { ok: false; stderr: string; exitCode: number };

/** tcpdump's non-empty lines for a filter (its words, or the whole expression: tcpdump joins them anyway). */
async function tcpdump(file: string, filter: string[]): Promise<TcpdumpRead> {
  const expression = filter.join(' ').trim();
  const out = await runTool(['tcpdump', '-nn', '-tt', '-S', '-r', file, ...(expression ? ['--', expression] : [])], { check: false });
  if (out.exitCode !== 0) return { ok: false, stderr: out.stderr, exitCode: out.exitCode };
  return { ok: true, lines: out.stdout.split('\n').filter((l) => l.trim().length > 0) };
}

/** tcpdump's lines for a filter; a missing, truncated or foreign file is a problem, not an empty list. */
export async function readLines(file: string, filter: string): Promise<LinesRead> {
  const out = await tcpdump(file, [filter]);
  if (!out.ok) {
    const why = out.stderr.split('\n').find((l) => l.trim() && !l.startsWith('reading from file')) ?? `tcpdump exited ${out.exitCode}`;
    return { ok: false, problem: `capture ${file} cannot be read: ${why.trim()}` };
  }
  return out;
}

export type TimesRead = { ok: true; times: number[] } | { ok: false; why: string };

/**
 * When each packet matching every filter was seen (epoch seconds): the filters (BPF expressions such as a capture's own
 * and a measure's) are bracketed and joined with "and". A file tcpdump cannot read gives why, its last word on stderr.
 */
export async function readPacketTimes(file: string, filters: string[]): Promise<TimesRead> {
  const out = await tcpdump(file, [filters.map((f) => `(${f.trim()})`).join(' and ')]);
  if (!out.ok) return { ok: false, why: out.stderr.trim().split('\n').at(-1) ?? '' };
  // A packet's first line starts with its time; a decoder's continuation lines do not.
  return { ok: true, times: out.lines.filter((l) => /^\d+\.\d+ /.test(l)).map((l) => Number(l.split(' ')[0])) };
}

/** For callers that only show lines (exercise checks): an unreadable file gives none. */
export async function pcapLines(file: string, filter: string): Promise<string[]> {
  const read = await readLines(file, filter);
  return read.ok ? read.lines : [];
}

export async function readSegments(file: string, filter: string): Promise<PcapRead> {
  const read = await readLines(file, filter);
  if (!read.ok) return read;
  return {
    ok: true,
    segments: read.lines.flatMap((l) => {
      const s = parseSegment(l);
      return s ? [s] : [];
    }),
  };
}

/** tcpdump's own account of a capture, from the lines it prints when stopped (null: it printed none). */
export interface CaptureStats {
  captured: number | null;
  droppedByKernel: number | null;
}

export type Liveness = { ok: true; packets: number } | { ok: false; problem: string };

/**
 * Whether a capture proves it was live to the end, so that "no packet matched" in it is evidence: tcpdump stopped
 * cleanly and printed its statistics, the kernel dropped nothing, and the file holds exactly the packets tcpdump says it
 * captured (a file lost, cut short or replaced by another, an empty one among them, does not). A capture that matched
 * nothing at all is live when tcpdump says it captured 0 and the file holds 0: filters that admit only the failure are
 * rightly empty. Whether the link carried the traffic the run expects is the judge's question, not this one.
 */
export async function captureLiveness(file: string, stats: CaptureStats): Promise<Liveness> {
  const name = path.basename(file);
  if (stats.captured === null || stats.droppedByKernel === null) {
    return { ok: false, problem: `tcpdump printed no statistics for ${name} (it did not stop cleanly): nothing shows it captured until the end` };
  }
  if (stats.droppedByKernel > 0) {
    return { ok: false, problem: `the kernel dropped ${stats.droppedByKernel} packet(s) before tcpdump read them on ${name}: what the file lacks is unknown` };
  }
  const held = await packetsInFile(file);
  if (!held.ok) return held;
  if (held.packets !== stats.captured) {
    return { ok: false, problem: `${name} holds ${held.packets} packet(s) but tcpdump reported ${stats.captured} captured: the file is not the whole capture` };
  }
  return held;
}

const PCAP_MAGIC = { le: [0xa1b2c3d4, 0xa1b23c4d], be: [0xd4c3b2a1, 0x4d3cb2a1] };

/** Packets in a capture file: classic pcap (what tcpdump -w writes) is counted record by record, anything else by tcpdump. */
export async function packetsInFile(file: string): Promise<Liveness> {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (e) {
    return { ok: false, problem: `capture ${file} cannot be read: ${(e as NodeJS.ErrnoException).code ?? String(e)}` };
  }
  const magic = data.length >= 24 ? data.readUInt32LE(0) : -1;
  const little = PCAP_MAGIC.le.includes(magic);
  if (!little && !PCAP_MAGIC.be.includes(magic)) {
    const read = await readLines(file, '');
    return read.ok ? { ok: true, packets: read.lines.filter((l) => /^\d+\.\d+ /.test(l)).length } : read;
  }
  let packets = 0;
  let at = 24;
  while (at + 16 <= data.length) {
    const included = little ? data.readUInt32LE(at + 8) : data.readUInt32BE(at + 8);
    at += 16 + included;
    if (at > data.length) break;
    packets++;
  }
  if (at !== data.length) return { ok: false, problem: `capture ${file} cannot be read: its last packet is cut short` };
  return { ok: true, packets };
}

/**
 * Reads several captures for one run and keeps every problem, so the judge can refuse a verdict built on an unreadable
 * file. Given tcpdump's statistics of a file, it also refuses one that does not prove it was live (captureLiveness).
 */
export class CaptureReader {
  readonly problems: string[] = [];
  private readonly checked = new Map<string, Promise<void>>();

  async segments(file: string, filter: string, stats?: CaptureStats): Promise<TcpSegment[]> {
    const r = await readSegments(file, filter);
    if (!r.ok) this.problems.push(r.problem);
    else if (stats) await this.live(file, stats);
    return r.ok ? r.segments : [];
  }

  async lines(file: string, filter: string, stats?: CaptureStats): Promise<string[]> {
    const r = await readLines(file, filter);
    if (!r.ok) this.problems.push(r.problem);
    else if (stats) await this.live(file, stats);
    return r.ok ? r.lines : [];
  }

  private live(file: string, stats: CaptureStats): Promise<void> {
    let check = this.checked.get(file);
    if (!check) {
      check = captureLiveness(file, stats).then((l) => void (l.ok || this.problems.push(l.problem)));
      this.checked.set(file, check);
    }
    return check;
  }
}

/**
 * Problems for captures, read without problem, that show none of a connection the agents say they made across their
 * link: a live capture that saw nothing there is on another link or filtered wrongly, and its zeros say nothing.
 */
export function connectionUnseen(reads: Array<{ capture: string; segments: TcpSegment[] }>): string[] {
  return reads
    .filter((r) => r.segments.length === 0)
    .map((r) => `the capture ${r.capture} shows none of the connection's segments, though the agents made the connection across its link`);
}

// The report's decoding: tshark, one row of fields per packet; mergecap to read many files with one tshark.

/** A packet as the report's ladder draws it: what ties its sightings at several hops (IP ID, sequence) and its label. */
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
  /** An IP fragment (its own packet: the report never reassembles): byte offset and the more-fragments flag. */
  fragment: { offset: number; more: boolean } | null;
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
  'ip.flags.mf',
  'ip.frag_offset',
];

/** Packets of one capture; a file tshark cannot read gives none. */
export async function readPackets(file: string, hop: string, limit = 5000): Promise<Packet[]> {
  const out = await runTool(tsharkFields(file, limit, []), { check: false, timeoutMs: 120_000 });
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
    const merge = await runTool(['mergecap', '-I', 'none', '-w', merged, ...files.map((c) => c.file)], { check: false, timeoutMs: 120_000 });
    if (merge.exitCode !== 0) return null;
    const out = await runTool(tsharkFields(merged, limit * files.length, ['frame.interface_id']), { check: false, timeoutMs: 120_000 });
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
  // Without reassembly each fragment is dissected as itself: the first shows its UDP or TCP header, the others only IP.
  return [
    'tshark',
    '-n',
    '-o',
    'ip.defragment:FALSE',
    '-r',
    file,
    '-c',
    String(limit),
    '-T',
    'fields',
    '-E',
    'separator=,',
    '-E',
    'occurrence=f',
    ...fields.flatMap((f) => ['-e', f]),
  ];
}

function rows(stdout: string): string[][] {
  return stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => l.split(','));
}

function packetOf(fields: string[], hop: string): Packet[] {
  const [t, id, src, dst, proto, ds, tsp, tdp, tflags, tseq, tlen, usp, udp, ulen, itype, icode, mf, offset] = fields;
  if (!src || !dst) return [];
  const p = Number(proto);
  const kind = p === 6 ? 'tcp' : p === 17 ? 'udp' : p === 1 ? 'icmp' : 'other';
  const more = mf === '1' || mf === 'True';
  // tshark 4.0 gives the header's field (8-byte units), the byte offset is eight times it.
  const fragment = more || Number(offset || 0) > 0 ? { offset: Number(offset || 0) * 8, more } : null;
  // A fragment after the first carries no transport header: no ports, flags or length of its own.
  const port = (value: string | undefined) => (value ? Number(value) : null);
  const sport = kind === 'tcp' ? port(tsp) : kind === 'udp' ? port(usp) : null;
  const dport = kind === 'tcp' ? port(tdp) : kind === 'udp' ? port(udp) : null;
  return [
    {
      t: Number(t),
      hop,
      id: id ?? '',
      src,
      dst,
      proto: kind,
      sport,
      dport,
      flags: kind === 'tcp' && tflags ? tcpFlags(Number(tflags)) : '',
      seq: kind === 'tcp' && tseq ? Number(tseq) : null,
      len: kind === 'tcp' ? Number(tlen || 0) : kind === 'udp' && ulen ? Number(ulen) - 8 : 0,
      tos: (Number(ds || 0) >> 2) << 2,
      icmp: kind === 'icmp' && itype ? icmpName(Number(itype), Number(icode)) : null,
      fragment,
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
