/** The flow timeline's bucketing, the ladder's choice of rows around phases and moments, and IP fragments decoded. */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readPackets, type Packet } from '../../src/run/pcap.js';
import { correlate, label, ladderRows } from '../../src/report/packets.js';
import { agentLogsOf, buildTimeline, flowOf, intervalFor, momentsOf, phasesOf, timelineLines, timelineSvg } from '../../src/report/timeline.js';
import { progressOf, throughputLines, throughputTimeline } from '../../src/report/throughput.js';
import { root } from '../helpers/cli.js';

function udp(t: number, dst: string, id: number, hop = 'gw'): Packet {
  return {
    t,
    hop,
    id: `0x${id.toString(16)}`,
    src: '10.0.0.2',
    dst,
    proto: 'udp',
    sport: 40000,
    dport: 8125,
    flags: '',
    seq: null,
    len: 4,
    tos: 0,
    icmp: null,
    fragment: null,
  };
}

const phases = [
  { name: 'before', start: 100, end: 103 },
  { name: 'after', start: 103, end: 106 },
];
// A flood: 10 datagrams per second to the old backend for 6 s, across the phase change, and 5 to the new one after it.
const flood = [
  ...Array.from({ length: 60 }, (_, i) => udp(100 + i * 0.1, '10.0.1.1', i)),
  ...Array.from({ length: 5 }, (_, i) => udp(103.5 + i * 0.1, '10.0.2.2', 1000 + i)),
];

test('intervals are readable steps that cut the capture into at most 60 buckets', (t) => {
  t.is(intervalFor(6), 0.1);
  t.is(intervalFor(0.05), 0.001);
  t.is(intervalFor(600), 10);
  t.is(intervalFor(3 * 3600), 300);
});

test('the timeline counts packets per interval and flow, and spans the phase windows', (t) => {
  const tl = buildTimeline('gw', flood, phases, [])!;
  t.is(tl.interval, 0.1);
  t.is(tl.t0, 100);
  t.deepEqual(
    tl.flows.map((f) => [f.flow, f.total]),
    [
      ['UDP 10.0.0.2 → 10.0.1.1:8125', 60],
      ['UDP 10.0.0.2 → 10.0.2.2:8125', 5],
    ],
  );
  t.is(tl.flows[0]!.counts.slice(0, 60).filter((c) => c === 1).length, 60, 'one datagram in each 100 ms');
  t.is(
    tl.flows[1]!.counts.reduce((a, b) => a + b, 0),
    5,
  );
  t.is(buildTimeline('elsewhere', flood, phases, []), null, 'a capture point without packets has no timeline');
  const many = Array.from({ length: 20 }, (_, i) => ({ ...udp(100 + i, `10.9.0.${i}`, i) }));
  const capped = buildTimeline('gw', many, [], [], 6)!;
  t.is(capped.flows.length, 6);
  t.deepEqual(capped.flows.at(-1)!.flow, '15 other flows');
  t.is(capped.flows.at(-1)!.total, 15);
});

test('the phase windows come from a declared run, a built-in scenario phase list gives none', (t) => {
  t.deepEqual(phasesOf({ phases }), phases);
  t.deepEqual(phasesOf({ phases: [{ label: 'PROPER_1', udpSent: 59 }] }), []);
  t.deepEqual(phasesOf({}), []);
});

test('marked moments: a datagram of an earlier UDP flow after a phase began, the first RST, nothing when the flow changed', (t) => {
  const moments = momentsOf(flood, phases);
  t.is(moments.length, 1);
  t.is(moments[0]!.t, flood[30]!.t);
  t.regex(moments[0]!.label, /^after: first datagram of an earlier flow, still to 10\.0\.1\.1 \(gw\)$/);
  const moved = [...flood.slice(0, 30), ...flood.slice(60)];
  t.deepEqual(momentsOf(moved, phases), [], 'the workaround: the flow after the change is a new one');
  const rst = { ...udp(101, '10.0.1.1', 7), proto: 'tcp' as const, flags: 'RST|ACK' };
  t.deepEqual(
    momentsOf([rst], []).map((m) => m.label),
    ['first RST (gw)'],
  );
});

test('the ladder keeps the first and last of each phase and the packets around a moment, with gaps for the rest', (t) => {
  const moments = momentsOf(flood, phases);
  const rows = ladderRows(correlate(flood), phases, moments, 3, 60);
  const kinds = rows.map((r) => (r.kind === 'packet' ? 'p' : r.kind === 'gap' ? `gap ${r.count}` : r.kind === 'phase' ? `phase ${r.name}` : 'moment'));
  t.is(kinds[0], 'phase before');
  t.true(kinds.includes('phase after'));
  t.true(kinds.includes('moment'));
  const gaps = rows.flatMap((r) => (r.kind === 'gap' ? [r.count] : []));
  const shown = rows.filter((r) => r.kind === 'packet').length;
  t.true(gaps.length >= 2, 'packets left out are shown as gaps');
  t.is(shown + gaps.reduce((a, b) => a + b, 0), 65, 'every packet is either shown or counted in a gap');
  // The moment row sits right before the datagram it marks, with the 3 before it and 3 after it kept.
  const at = rows.findIndex((r) => r.kind === 'moment');
  const next = rows[at + 1];
  t.true(next?.kind === 'packet' && next.journey.sightings[0]!.t === flood[30]!.t);
  const times = rows.flatMap((r) => (r.kind === 'packet' ? [r.journey.sightings[0]!.t] : []));
  for (const i of [27, 28, 29, 31, 32]) t.true(times.includes(flood[i]!.t), `packet ${i} around the moment is kept`);
  t.true(times.includes(flood[59]!.t), 'the last of the last phase is kept');
  t.deepEqual(
    ladderRows(correlate(flood.slice(0, 10))).map((r) => r.kind),
    Array(10).fill('packet'),
    'a short capture is shown whole, without gaps',
  );
});

test('the timeline SVG shades and labels each phase and marks the moment; report.md counts per phase and flow', (t) => {
  const moments = momentsOf(flood, phases);
  const tl = buildTimeline('gw', flood, phases, moments)!;
  const svg = timelineSvg(tl);
  t.is(svg.match(/<rect class="phase"/g)?.length, 2);
  t.regex(svg, /class="phase-label"[^>]*>before</);
  t.regex(svg, /class="phase-label"[^>]*>after</);
  t.is(svg.match(/<line class="moment"/g)?.length, 1);
  t.is(svg.match(/<polygon class="flow"/g)?.length, 2);
  t.notRegex(svg, /<script/);
  const md = timelineLines(tl, flood).join('\n');
  t.regex(md, /\| flow \| before \| after \|/);
  t.regex(md, /\| UDP 10\.0\.0\.2 → 10\.0\.1\.1:8125 \| 30 \| 30 \|/);
  t.regex(md, /\| UDP 10\.0\.0\.2 → 10\.0\.2\.2:8125 \| 0 \| 5 \|/);
  t.notRegex(md, /earlier flow/, 'report.md lists the moments once for the variant, not per capture point');
  t.regex(timelineLines(buildTimeline('gw', flood, [], [])!, flood).join('\n'), /\| flow \| packets \|/, 'without phases: one column');
});

test('IP fragments are decoded as fragments: id, offset, more-fragments, ports only on the first', async (t) => {
  const file = path.join(root, 'test', 'fixtures', 'report', 'fragments', 'udp-fragments.pcap');
  const packets = await readPackets(file, 'gw');
  t.is(packets.length, 4);
  t.is(packets[0]!.fragment, null, 'a whole datagram is no fragment');
  t.deepEqual(
    packets.slice(1).map((p) => p.fragment),
    [
      { offset: 0, more: true },
      { offset: 1480, more: true },
      { offset: 2960, more: false },
    ],
  );
  t.deepEqual(
    packets.map((p) => label(p)),
    [
      '10.40.0.2:40000 → 10.40.1.1:8125 UDP len 4',
      '10.40.0.2:40000 → 10.40.1.1:8125 IP fragment id 0x1001 offset 0 MF (UDP len 3072)',
      '10.40.0.2 → 10.40.1.1 IP fragment id 0x1001 offset 1480 MF (UDP)',
      '10.40.0.2 → 10.40.1.1 IP fragment id 0x1001 offset 2960 (UDP)',
    ],
  );
  t.false(packets.map((p) => label(p)).some((l) => l.includes(':0')));
  t.is(flowOf(packets[2]!), 'UDP 10.40.0.2 → 10.40.1.1 (fragments)');
  t.is(correlate(packets).length, 4, 'fragments of one datagram are separate rows');
});

test('throughput: each progress report drawn over the time it covers, per phase means in report.md', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-throughput-'));
  const log = path.join(dir, 'client.jsonl');
  const events = [
    { event: 'ready', t: 100 },
    ...[100.5, 101, 101.5, 102, 102.5, 103].map((at, i) => ({ event: 'progress', t: at, bytes: i * 1e6, bps: at <= 101.5 ? 100e6 : 20e6 })),
    { event: 'summary', t: 103.1 },
  ];
  fs.writeFileSync(log, `${events.map((e) => JSON.stringify(e)).join('\n')}\nnot json\n`);
  const progress = progressOf(log);
  t.is(progress.length, 6);
  t.deepEqual(progressOf(path.join(dir, 'missing.jsonl')), []);
  const slow = [
    { name: 'fast', start: 100, end: 101.5 },
    { name: 'slow', start: 101.5, end: 103 },
  ];
  const tl = throughputTimeline(
    [
      { name: 'client', progress },
      { name: 'idle', progress: [] },
    ],
    slow,
    [],
  )!;
  t.is(tl.flows.length, 1, 'an agent without progress reports has no series');
  t.is(tl.t0, 100);
  t.is(tl.interval, 0.05);
  const at = (time: number) => tl.flows[0]!.counts[Math.floor((time - tl.t0) / tl.interval)];
  t.is(at(100.2), 100, 'the first report covers the typical gap before it');
  t.is(at(101.7), 20);
  t.is(tl.flows[0]!.note, 'peak 100 Mbit/s, 6 reports');
  t.is(throughputTimeline([], slow, []), null);
  const md = throughputLines([{ name: 'client', progress }], slow).join('\n');
  t.regex(md, /\| agent \| fast \| slow \|/);
  t.regex(md, /\| client \| 100\.0 \| 20\.0 \|/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("agents' failure events are marked moments, once per kind; a capture read in part says so", (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-moments-'));
  const log = path.join(dir, 'client.jsonl');
  const lines = [
    { event: 'send', t: 101 },
    { event: 'socket_error', t: 101.5, error: 'ECONNREFUSED' },
    { event: 'socket_error', t: 101.6, error: 'ECONNREFUSED' },
    { event: 'no_reply', t: 102 },
  ];
  fs.writeFileSync(log, lines.map((l) => JSON.stringify(l)).join('\n'));
  const moments = momentsOf([], [], agentLogsOf(dir, { agentLogs: ['client.jsonl', 42] }));
  t.deepEqual(moments, [
    { t: 101.5, label: 'client: socket_error: ECONNREFUSED' },
    { t: 102, label: 'client: no_reply' },
  ]);
  fs.rmSync(dir, { recursive: true, force: true });
  const tl = { ...buildTimeline('gw', flood, phases, [])!, captured: 1000 };
  t.regex(timelineSvg(tl), /; the first 65 of 1000 captured packets</);
  t.regex(timelineLines(tl, flood)[0]!, /^Packets at `gw` \(65; the first 65 of 1000 captured packets\):$/);
  t.notRegex(timelineSvg({ ...tl, captured: 65 }), /captured packets/);
});
