/**
 * `packets: { ..., after: { agent, event } }`: packets counted from an agent's first event of a name on, the event's time
 * moved into the capture node's clock by both nodes' measured offsets. On the coded docker-1090 baseline recording
 * (6.18): the uplink capture on the client host, the forging agent on the server.
 */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root } from '../helpers/cli.js';
import { measureAll, measureId } from '../../src/run/declarative/measure.js';
import type { Measure, VerdictRules } from '../../src/lab/declared/spec.js';
import type { Recorded } from '../../src/run/declarative/steps.js';

const recording = path.join(root, 'test', 'fixtures', 'runs', 'docker-1090-6.18', 'baseline');

/** The recording's uplink pcap and an injector log whose one "injected" event is at the coded server's "forged" time. */
function run(t: { teardown(fn: () => void): void }): { dir: string; forgedAt: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-packets-after-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.copyFileSync(path.join(recording, 'pcap', 'client-eth0.pcap'), path.join(dir, 'uplink.pcap'));
  const events = fs
    .readFileSync(path.join(recording, 'agents', 'server.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { event: string; t: number });
  const forgedAt = events.find((e) => e.event === 'forged')!.t;
  fs.writeFileSync(
    path.join(dir, 'injector.jsonl'),
    `${JSON.stringify({ event: 'ready', t: forgedAt - 1 })}\n${JSON.stringify({ event: 'injected', t: forgedAt })}\n`,
  );
  return { dir, forgedAt };
}

const recorded = (clocks?: Recorded['clocks']): Recorded => ({
  phases: [],
  agents: { injector: { node: 'server', log: 'injector.jsonl', summary: { event: 'summary', t: 0 } } },
  captures: { uplink: { node: 'client', iface: 'eth0', file: 'uplink.pcap', captured: 14, droppedByKernel: 0 } },
  snapshots: {},
  commands: [],
  conntrack: {},
  clocks,
});

const packets = (after?: { agent: string; event: string }): Measure => ({
  kind: 'packets',
  spec: { capture: 'uplink', filter: 'tcp', ...(after && { after }) },
});
const afterInjected = packets({ agent: 'injector', event: 'injected' });

async function count(m: Measure, rec: Recorded, dir: string) {
  const rules: VerdictRules = { reproduced: [{ measure: m, op: 'atLeast', than: 1 }], notReproduced: [], healthy: [] };
  return (await measureAll(rules, rec, dir))[measureId(m)]!;
}

test("packets after an agent's event: fewer than the whole capture, none of them before the event", async (t) => {
  const { dir } = run(t);
  const all = await count(packets(), recorded(), dir);
  const after = await count(afterInjected, recorded(), dir);
  t.is(all.value, 14);
  t.true(after.value! > 0 && after.value! < all.value!, `${after.value} of ${all.value} after the injection`);
  t.regex(after.label, /after injector's first "injected"/);
});

test("the event's time moves into the capture node's clock by the measured offsets", async (t) => {
  const { dir } = run(t);
  const same = (await count(afterInjected, recorded({ server: { offset: 0, roundTrip: 0.01 }, client: { offset: 0, roundTrip: 0.01 } }), dir)).value;
  // The server's clock an hour ahead: its event, read in the client's clock, is an hour earlier, before every packet.
  const serverAhead = await count(afterInjected, recorded({ server: { offset: 3600, roundTrip: 0.01 }, client: { offset: 0, roundTrip: 0.01 } }), dir);
  t.is(serverAhead.value, 14);
  // The client's clock an hour ahead: the event is an hour later in its clock, after every packet.
  const clientAhead = await count(afterInjected, recorded({ server: { offset: 0, roundTrip: 0.01 }, client: { offset: 3600, roundTrip: 0.01 } }), dir);
  t.is(clientAhead.value, 0);
  // Offsets within the readings' tolerance (both nodes in one guest, read through a loaded machine) move nothing.
  const close = await count(afterInjected, recorded({ server: { offset: 0.02, roundTrip: 0.01 }, client: { offset: 0, roundTrip: 0.01 } }), dir);
  t.is(close.value, same);
});

test('no event, no log, no agent or an unread clock: the count is missing, never 0', async (t) => {
  const { dir } = run(t);
  t.regex((await count(packets({ agent: 'injector', event: 'error' }), recorded(), dir)).missing!, /logged no "error" event/);
  t.regex((await count(packets({ agent: 'client', event: 'injected' }), recorded(), dir)).missing!, /agent client did not run/);
  const unread = recorded({ server: { problem: 'the clock of server could not be read' }, client: { offset: 0, roundTrip: 0.01 } });
  t.regex((await count(afterInjected, unread, dir)).missing!, /could not be read/);
  t.regex((await count(afterInjected, recorded({ client: { offset: 0, roundTrip: 0.01 } }), dir)).missing!, /clock of server was not read/);
  fs.rmSync(path.join(dir, 'injector.jsonl'));
  t.regex((await count(afterInjected, recorded(), dir)).missing!, /log of agent injector is unreadable/);
});
