/** Several captures (and a run's groups of them) read with one tshark, merged by mergecap, give the packets each file gives read alone. */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readCaptureGroups, readCaptures, readPackets, type Packet } from '../../src/run/pcap.js';
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

test('groups read at once: each group gets what it gets read on its own, in the same order', async (t) => {
  const groups = [captures, captures.slice(0, 1), [], captures.slice(1)];
  const together = await readCaptureGroups(groups);
  const apart = await Promise.all(groups.map((g) => readCaptures(g)));
  t.is(together.length, groups.length);
  t.true(together[0]!.length > 20);
  t.deepEqual(together, apart);
});

test('groups with a truncated capture: each group is read on its own, the cut file alone gives nothing', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-packets-'));
  const cut = path.join(dir, 'cut.pcap');
  fs.writeFileSync(cut, fs.readFileSync(captures[0]!.file).subarray(0, 30));
  const groups = [captures, [{ file: cut, hop: 'cut' }, ...captures.slice(1)]];
  const together = await readCaptureGroups(groups);
  t.deepEqual(together, await Promise.all(groups.map((g) => readCaptures(g))));
  t.is(together[1]!.filter((p) => p.hop === 'cut').length, 0);
  t.true(together[1]!.length > 0);
  fs.rmSync(dir, { recursive: true, force: true });
});
