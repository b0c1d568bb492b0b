/** npa-conntrack-race for real: verdicts pinned to the lab file's expectation, backed by the kernel's denied-flow counters and the capture. */
import { cannotRunHere, runPinned, assertGone, testUnless } from '../helpers/e2e.js';
import { rootSnapshot } from '../helpers/host.js';

interface Evidence {
  timing: { staleEntriesAtTrigger: number; wave2ConnectedFrom: number | null; triggerSnapshotAt: number };
  wave1: { attempts: number; ok: number };
  wave2: { attempts: number; ok: number; connections: Array<{ tuple: string; echoes: number }> };
  onWire: Record<string, { syns: number; echoes: number }>;
  liveFlowsDeleted: Array<{ tuple: string }>;
  deniedFlows: Array<{ flow: string; packets: number }>;
}

testUnless(cannotRunHere(), 'lab run npa-conntrack-race --check: verdicts as expected, judged by denied flows', async (t) => {
  const before = await rootSnapshot();
  const { json } = await runPinned(t, 'npa-conntrack-race', 'e2e');
  for (const v of json.variants) {
    const e = v.evidence as unknown as Evidence;
    t.is(e.wave1.ok, e.wave1.attempts, `${v.name}: wave 1 ran cleanly`);
    t.true(e.timing.staleEntriesAtTrigger > 0, `${v.name}: stale entries existed when wave 2 started`);
    t.true(e.timing.wave2ConnectedFrom! > e.timing.triggerSnapshotAt, `${v.name}: wave 2 connected after the snapshot it races`);
    const denied = e.deniedFlows.reduce((n, d) => n + d.packets, 0);
    if (v.verdict === 'REPRODUCED') t.true(denied > 0 && e.liveFlowsDeleted.length > 0, `${v.name}: live flows deleted and denied`);
    if (v.verdict === 'NOT_REPRODUCED') t.is(e.wave2.ok, e.wave2.attempts, `${v.name}: every reused connection worked`);
    if (v.verdict !== 'INCONCLUSIVE') {
      for (const c of e.wave2.connections) t.true(e.onWire[c.tuple]!.echoes >= c.echoes, `${v.name} ${c.tuple}: every echo counted was on the wire`);
    }
  }
  await assertGone(t, 'npa-conntrack-race', 'e2e');
  t.is(await rootSnapshot(), before);
});
