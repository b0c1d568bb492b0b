/** docker-1090: the pcap analysis, a pure function, on captures recorded in real runs (6.18 netns and 5.10 under QEMU). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { readSegments } from '../../src/run/pcap.js';
import { clientHostPath, rstsAtServerAfterForged, seqAfter } from '../../src/run/scenarios/oow-rst-path.js';
import type { OowEvidence } from '../../src/run/scenarios/oow-rst-judge.js';
import { recorded, recordedFile } from './recorded.js';

const serverEnd = '10.10.2.2.9000';

async function segments(lab: string, variant: string, file: string, filter: string) {
  const r = await readSegments(recordedFile(lab, variant, file), filter);
  if (!r.ok) throw new Error(r.problem);
  return r.segments;
}

async function analyse(variant: string, lab = 'docker-1090-6.18') {
  const e = recorded<OowEvidence>(lab, variant).evidence;
  if (!e.server.ok || !e.client.ok || !e.server.value.forged) throw new Error('recorded summaries parse');
  const [peerIp, peerPort] = e.server.value.peer!.split(':');
  const containerPort = e.client.value.local!.split(':')[1];
  const connection = `tcp and host ${peerIp} and port ${peerPort} and port 9000`;
  const uplink = await segments(lab, variant, 'pcap/client-eth0.pcap', connection);
  const inner = await segments(lab, variant, 'pcap/client-docker0.pcap', `tcp and port ${containerPort} and port 9000`);
  const atServer = await segments(lab, variant, 'pcap/server-eth0.pcap', connection);
  const forged = e.server.value.forged;
  return { forged, path: clientHostPath({ forged, serverEnd, uplink, inner, natBetween: true }), rsts: rstsAtServerAfterForged(atServer, forged, serverEnd) };
}

test('sequence arithmetic wraps at 2^32', (t) => {
  t.true(seqAfter(5, 2 ** 32 - 5));
  t.false(seqAfter(2 ** 32 - 5, 5));
  t.false(seqAfter(7, 7));
});

test('6.18 baseline: the forged segment reached the container, a later real one did not, and the RST answered that one by its ack', async (t) => {
  const { path: p, rsts } = await analyse('baseline');
  t.true(p.forgedForwardedToContainer);
  t.true(p.clientAnswerToForged?.duplicateAck);
  t.truthy(p.laterRealSegmentNotForwarded);
  const rst = p.hostRsts![0]!;
  t.false(rst.answered!.isForgedSegment);
  t.false(rst.answered!.forwardedToContainer);
  t.regex(rst.answered!.line, new RegExp(`ack ${rst.seq},`), "the answered segment's ack is the RST's seq");
  t.is(rsts[0]!.fate, 'accepted');
  t.is(rsts[0]!.serverExpected, rst.seq);
  t.true(p.rstsToClient!.length > 0, "the server's RST then reached the container");
});

test('6.18 upstream-trigger: the container answers the segment far behind with a D-SACK, and no RST follows', async (t) => {
  const { path: p, rsts } = await analyse('upstream-trigger');
  t.true(p.forgedForwardedToContainer);
  t.true(p.clientAnswerToForged?.dsackOfForged);
  t.deepEqual(p.hostRsts, []);
  t.is(rsts.length, 0);
  t.true(p.serverDataDeliveredAfterForged > 0);
});

test('6.18 ahead-far: the forged segment never reaches the container and the RST answers it, with its ack, which the server expected', async (t) => {
  const { forged, path: p, rsts } = await analyse('ahead-far');
  t.false(p.forgedForwardedToContainer);
  t.true(p.hostRsts![0]!.answered!.isForgedSegment);
  t.is(p.hostRsts![0]!.seq, forged.ack!);
  t.is(rsts[0]!.fate, 'accepted');
});

test('6.18 drop-invalid: the server retransmits its held segment at its retransmission timeout, and none reaches the container', async (t) => {
  const { path: p, rsts } = await analyse('drop-invalid');
  t.deepEqual(rsts, []);
  t.true(p.forgedForwardedToContainer);
  t.truthy(p.laterRealSegmentNotForwarded);
  const retried = p.mostRetriedHeldSegment!;
  t.true(retried.times >= 3, `held ${retried.times} times`);
  // Each retransmission waits at least the minimum retransmission timeout, 200 ms.
  t.true(retried.overMs >= 200 * (retried.times - 1), `${retried.times} sends over ${retried.overMs} ms`);
});

test('5.10 upstream-trigger, client idle: the RST answers the forged segment with the sequence number the server expects', async (t) => {
  const { forged, path: p, rsts } = await analyse('upstream-trigger', 'docker-1090-5.10');
  t.false(p.forgedForwardedToContainer);
  t.is(p.hostRsts![0]!.seq, forged.ack!);
  t.true(p.hostRsts![0]!.answered!.isForgedSegment);
  t.is(rsts[0]!.fate, 'accepted');
});

test('5.10 behind-in-flight: the RST answers the forged segment, but its seq is below what the server expects, so it is ignored', async (t) => {
  const { forged, path: p, rsts } = await analyse('behind-in-flight', 'docker-1090-5.10');
  t.true(p.hostRsts![0]!.answered!.isForgedSegment);
  t.is(rsts[0]!.fate, 'below-window');
  t.true(seqAfter(rsts[0]!.serverExpected!, forged.ack!));
  t.deepEqual(p.rstsToClient, []);
});

test('6.1 baseline: the RST answered a pure ACK that never reached the container, matched by its ack', async (t) => {
  const { path: p, rsts } = await analyse('baseline', 'docker-1090-6.1');
  const rst = p.hostRsts![0]!;
  t.regex(rst.answered!.line, new RegExp(`Flags \\[\\.\\], ack ${rst.seq},`));
  t.false(rst.answered!.forwardedToContainer);
  t.is(rsts[0]!.fate, 'accepted');
});

test('a truncated capture is a problem, not an empty list', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-pcap-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const truncated = path.join(dir, 'cut.pcap');
  fs.writeFileSync(truncated, fs.readFileSync(recordedFile('docker-1090-6.18', 'baseline', 'pcap/server-eth0.pcap')).subarray(0, 12));
  const r = await readSegments(truncated, 'tcp');
  t.false(r.ok);
  const missing = await readSegments(path.join(dir, 'absent.pcap'), 'tcp');
  t.false(missing.ok);
});
