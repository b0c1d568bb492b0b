/**
 * Read back a capture with tcpdump itself (-S: absolute sequence numbers) and parse TCP segments.
 * A capture that cannot be read is reported as such, never as "no packets".
 */

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

/** tcpdump's lines for a filter; a missing, truncated or foreign file is a problem, not an empty list. */
export async function readLines(file: string, filter: string): Promise<LinesRead> {
  // Imported here: lab files name scenarios, and loading one (lab list, validate) must not load execa.
  const { runCommand } = await import('../transport/process.js');
  const out = await runCommand(['tcpdump', '-nn', '-tt', '-S', '-r', file, ...filter.split(' ')], { check: false });
  if (out.exitCode !== 0) {
    const why = out.stderr.split('\n').find((l) => l.trim() && !l.startsWith('reading from file')) ?? `tcpdump exited ${out.exitCode}`;
    return { ok: false, problem: `capture ${file} cannot be read: ${why.trim()}` };
  }
  return { ok: true, lines: out.stdout.split('\n').filter((l) => l.trim().length > 0) };
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

/** Reads several captures for one run and keeps every problem, so the judge can refuse a verdict built on an unreadable file. */
export class CaptureReader {
  readonly problems: string[] = [];

  async segments(file: string, filter: string): Promise<TcpSegment[]> {
    const r = await readSegments(file, filter);
    if (!r.ok) this.problems.push(r.problem);
    return r.ok ? r.segments : [];
  }

  async lines(file: string, filter: string): Promise<string[]> {
    const r = await readLines(file, filter);
    if (!r.ok) this.problems.push(r.problem);
    return r.ok ? r.lines : [];
  }
}
