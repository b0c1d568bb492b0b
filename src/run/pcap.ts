/** Read back a capture with tcpdump itself (-S: absolute sequence numbers) and parse TCP segments. */

export interface TcpSegment {
  t: number;
  src: string;
  dst: string;
  flags: string;
  seq: number | null;
  end: number | null;
  line: string;
}

export async function pcapLines(file: string, filter: string): Promise<string[]> {
  // Imported here: lab files name scenarios, and loading one (lab list, validate) must not load execa.
  const { runCommand } = await import('../transport/process.js');
  const out = await runCommand(['tcpdump', '-nn', '-tt', '-S', '-r', file, ...filter.split(' ')], { check: false });
  return out.stdout.split('\n').filter((l) => l.trim().length > 0);
}

const SEGMENT = /^(\d+\.\d+) IP (\S+) > (\S+): Flags \[([^\]]*)\](?:, seq (\d+)(?::(\d+))?)?/;

export function parseSegment(line: string): TcpSegment | undefined {
  const m = SEGMENT.exec(line);
  if (!m) return undefined;
  const seq = m[5] === undefined ? null : Number(m[5]);
  return { t: Number(m[1]), src: m[2]!, dst: m[3]!.replace(/:$/, ''), flags: m[4]!, seq, end: m[6] === undefined ? seq : Number(m[6]), line };
}

export async function tcpSegments(file: string, filter: string): Promise<TcpSegment[]> {
  return (await pcapLines(file, filter)).flatMap((l) => {
    const s = parseSegment(l);
    return s ? [s] : [];
  });
}
