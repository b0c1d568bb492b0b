/**
 * run/pcap.ts reads every capture: the verdicts' decoding (tcpdump lines) and the report's (tshark fields) must see the
 * same packets in recorded captures, at the same times, with the same flags, sequence numbers and payload lengths; and
 * a declared measure counts what the verdicts' reader reads.
 */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { captureLiveness, packetsInFile, readLines, readPacketTimes, readPackets, readSegments, type TcpSegment } from '../../src/run/pcap.js';
import { root } from '../helpers/cli.js';

const runs = path.join(root, 'test', 'fixtures', 'runs');
const tcpCaptures = ['docker-1090', 'taskcluster-reset'].flatMap((lab) =>
  fs.readdirSync(path.join(runs, lab), { withFileTypes: true }).flatMap((variant) => {
    const dir = path.join(runs, lab, variant.name, 'pcap');
    return variant.isDirectory() && fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => path.join(dir, f)) : [];
  }),
);

/** tcpdump's flags ("S.", "P.", "R") as tshark's names, in the order report/packets.ts gives them. */
function flagNames(s: TcpSegment): string {
  const has = (c: string) => s.flags.includes(c);
  const names: Array<[boolean, string]> = [
    [has('S'), 'SYN'],
    [has('F'), 'FIN'],
    [has('R'), 'RST'],
    [has('P'), 'PSH'],
    [has('.'), 'ACK'],
  ];
  return names
    .filter(([on]) => on)
    .map(([, n]) => n)
    .join('|');
}

test('the recorded TCP captures are there to compare', (t) => {
  t.true(tcpCaptures.length >= 20, String(tcpCaptures.length));
});

for (const file of tcpCaptures) {
  test(`${path.relative(runs, file)}: tcpdump and tshark decode the same segments`, async (t) => {
    const read = await readSegments(file, 'tcp');
    if (!read.ok) return t.fail(read.problem);
    const packets = (await readPackets(file, 'hop')).filter((p) => p.proto === 'tcp');
    t.true(read.segments.length > 0);
    t.is(read.segments.length, packets.length);
    read.segments.forEach((s, i) => {
      const p = packets[i]!;
      t.is(Math.round(s.t * 1e6), Math.round(p.t * 1e6), s.line);
      t.is(flagNames(s), p.flags, s.line);
      t.is(s.src, `${p.src}.${p.sport}`, s.line);
      t.is(s.dst, `${p.dst}.${p.dport}`, s.line);
      // tcpdump names a sequence number only for segments that carry one worth naming (data, SYN, FIN, RST).
      if (s.seq !== null) t.deepEqual([s.seq, (s.end ?? s.seq) - s.seq], [p.seq, p.len], s.line);
    });
  });
}

test("a measure's packet times are the verdicts' lines, filters joined with and", async (t) => {
  const file = tcpCaptures.find((f) => f.includes(`baseline${path.sep}`))!;
  const lines = await readLines(file, 'tcp and tcp[tcpflags] & tcp-rst != 0');
  const times = await readPacketTimes(file, ['tcp', 'tcp[tcpflags] & tcp-rst != 0']);
  if (!lines.ok || !times.ok) return t.fail('both read the file');
  t.true(lines.lines.length > 0);
  t.deepEqual(
    times.times,
    lines.lines.map((l) => Number(l.split(' ')[0])),
  );
  const all = await readPacketTimes(file, []);
  t.true(all.ok && all.times.length > times.times.length);
});

test('a capture neither can read: the verdicts get a problem, a measure why, the report no packets', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-pcap-'));
  const cut = path.join(dir, 'cut.pcap');
  fs.writeFileSync(cut, fs.readFileSync(tcpCaptures[0]!).subarray(0, 30));
  const lines = await readLines(cut, 'tcp');
  t.false(lines.ok);
  if (!lines.ok) t.regex(lines.problem, /^capture .*cut\.pcap cannot be read: /);
  const times = await readPacketTimes(cut, ['tcp']);
  t.false(times.ok);
  if (!times.ok) t.true(times.why.length > 0);
  t.deepEqual(await readPackets(cut, 'cut'), []);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("liveness: every recorded capture holds exactly the packets tcpdump said it captured, with the file's own count", async (t) => {
  for (const file of tcpCaptures) {
    const lines = await readLines(file, '');
    if (!lines.ok) return t.fail(lines.problem);
    const count = lines.lines.filter((l) => /^\d+\.\d+ /.test(l)).length;
    t.deepEqual(await captureLiveness(file, { captured: count, droppedByKernel: 0 }), { ok: true, packets: count }, file);
  }
});

test('liveness: no statistics, drops, or a file that is not the whole capture prove nothing; an empty capture tcpdump agrees with is live', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-liveness-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = tcpCaptures[0]!;
  const held = await packetsInFile(file);
  if (!held.ok) return t.fail(held.problem);
  const problem = async (f: string, captured: number | null, droppedByKernel: number | null) => {
    const l = await captureLiveness(f, { captured, droppedByKernel });
    return l.ok ? undefined : l.problem;
  };
  t.regex((await problem(file, null, null))!, /printed no statistics/);
  t.regex((await problem(file, held.packets, 2))!, /kernel dropped 2 packet/);
  t.regex((await problem(file, held.packets + 1, 0))!, new RegExp(`holds ${held.packets} packet\\(s\\) but tcpdump reported ${held.packets + 1}`));
  const empty = path.join(dir, 'empty.pcap');
  fs.writeFileSync(empty, fs.readFileSync(file).subarray(0, 24));
  t.regex((await problem(empty, held.packets, 0))!, /holds 0 packet/);
  t.is(await problem(empty, 0, 0), undefined);
  const cut = path.join(dir, 'cut.pcap');
  fs.writeFileSync(cut, fs.readFileSync(file).subarray(0, 30));
  t.regex((await problem(cut, held.packets, 0))!, /cut short/);
  t.regex((await problem(path.join(dir, 'gone.pcap'), 0, 0))!, /cannot be read: ENOENT/);
});
