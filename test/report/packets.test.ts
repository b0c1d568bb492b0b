/** Several captures read with one tshark (merged by mergecap) give the packets each file gives read alone. */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readCaptures, readPackets, type Packet } from '../../src/report/packets.js';
import { root } from '../helpers/cli.js';

const pcapDir = path.join(root, 'test', 'fixtures', 'runs', 'docker-1090', 'baseline', 'pcap');
const captures = ['server-eth0', 'client-eth0', 'client-docker0'].map((hop) => ({ file: path.join(pcapDir, `${hop}.pcap`), hop }));
const order = (a: Packet, b: Packet) => a.hop.localeCompare(b.hop) || a.t - b.t;

test('merged read: the same packets, each with the hop of the file it came from', async (t) => {
  const alone = (await Promise.all(captures.map((c) => readPackets(c.file, c.hop)))).flat();
  const merged = await readCaptures(captures);
  t.true(alone.length > 20);
  t.deepEqual([...merged].sort(order), [...alone].sort(order));
});

test('the per-file limit holds in a merged read', async (t) => {
  const merged = await readCaptures(captures, 3);
  for (const c of captures) t.is(merged.filter((p) => p.hop === c.hop).length, 3, c.hop);
});

test('a truncated capture: the others are still read, each alone', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-packets-'));
  const cut = path.join(dir, 'cut.pcap');
  const whole = fs.readFileSync(captures[0]!.file);
  fs.writeFileSync(cut, whole.subarray(0, 30));
  const merged = await readCaptures([{ file: cut, hop: 'cut' }, ...captures.slice(1)]);
  const others = (await Promise.all(captures.slice(1).map((c) => readPackets(c.file, c.hop)))).flat();
  t.deepEqual([...merged].sort(order), [...others].sort(order));
  fs.rmSync(dir, { recursive: true, force: true });
});
