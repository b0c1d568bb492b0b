/** docker-1090: the pcap analysis, a pure function, on captures recorded in real runs. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { readSegments } from '../../src/run/pcap.js';
import { clientHostPath, rstsAtServerAfterForged } from '../../src/run/scenarios/oow-rst-path.js';
import type { OowEvidence } from '../../src/run/scenarios/oow-rst-judge.js';
import { recorded, recordedFile } from './recorded.js';

const serverEnd = '10.10.2.2.9000';

async function segments(variant: string, file: string, filter: string) {
  const r = await readSegments(recordedFile('docker-1090', variant, file), filter);
  if (!r.ok) throw new Error(r.problem);
  return r.segments;
}

async function analyse(variant: string) {
  const e = recorded<OowEvidence>('docker-1090', variant).evidence;
  if (!e.server.ok || !e.client.ok || !e.server.value.forged) throw new Error('recorded summaries parse');
  const [peerIp, peerPort] = e.server.value.peer!.split(':');
  const containerPort = e.client.value.local!.split(':')[1];
  const connection = `tcp and host ${peerIp} and port ${peerPort} and port 9000`;
  const uplink = await segments(variant, 'pcap/client-eth0.pcap', connection);
  const inner = await segments(variant, 'pcap/client-docker0.pcap', `tcp and port ${containerPort} and port 9000`);
  const atServer = await segments(variant, 'pcap/server-eth0.pcap', connection);
  const forged = e.server.value.forged;
  return { path: clientHostPath({ forged, serverEnd, uplink, inner, natBetween: true }), rsts: rstsAtServerAfterForged(atServer, forged, serverEnd) };
}

test('baseline capture: forged segment forwarded, then a real server segment held back and answered with a RST', async (t) => {
  const { path: p, rsts } = await analyse('baseline');
  t.true(p.forgedSeenOnUplink);
  t.true(p.forgedForwardedToContainer);
  t.true(p.clientAnswerToForged?.duplicateAck);
  t.false(p.rstAnsweredSegment?.isForgedSegment);
  t.false(p.rstAnsweredSegment?.forwardedToContainer);
  t.true(rsts.length >= 1);
});

test('upstream-trigger capture: the container answers the segment far behind with a D-SACK, and no RST follows', async (t) => {
  const { path: p, rsts } = await analyse('upstream-trigger');
  t.true(p.forgedForwardedToContainer);
  t.true(p.clientAnswerToForged?.dsackOfForged);
  t.is(p.firstRstFromClientHost, null);
  t.is(rsts.length, 0);
  t.true(p.serverDataDeliveredAfterForged > 0);
});

test('ahead-far capture: the forged segment never reaches the container and the RST answers it', async (t) => {
  const { path: p } = await analyse('ahead-far');
  t.false(p.forgedForwardedToContainer);
  t.true(p.rstAnsweredSegment?.isForgedSegment);
});

test('a truncated capture is a problem, not an empty list', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-pcap-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const truncated = path.join(dir, 'cut.pcap');
  fs.writeFileSync(truncated, fs.readFileSync(recordedFile('docker-1090', 'baseline', 'pcap/server-eth0.pcap')).subarray(0, 12));
  const r = await readSegments(truncated, 'tcp');
  t.false(r.ok);
  const missing = await readSegments(path.join(dir, 'absent.pcap'), 'tcp');
  t.false(missing.ok);
});

test('drop-invalid capture: the server retransmits its held segment at its retransmission timeout, and none reaches the container', async (t) => {
  const { path: p, rsts } = await analyse('drop-invalid');
  t.deepEqual(rsts, []);
  t.true(p.forgedForwardedToContainer);
  const retried = p.mostRetriedHeldSegment!;
  t.true(retried.times >= 3, `held ${retried.times} times`);
  // Each retransmission waits at least the minimum retransmission timeout, 200 ms.
  t.true(retried.overMs >= 200 * (retried.times - 1), `${retried.times} sends over ${retried.overMs} ms`);
});
