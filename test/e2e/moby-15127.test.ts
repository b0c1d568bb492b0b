/** moby-15127 for real: every verdict pinned to the lab file's expectation; each verdict backed by its capture. */
import { cannotRunHere, runPinned, assertGone, testUnless } from '../helpers/e2e.js';
import { rootSnapshot } from '../helpers/host.js';

interface Evidence {
  client: { sent: number; received: number } | null;
  onBridge: { replies: number; replySources: string[]; wrongSourceReplies: number; icmpPortUnreachableFromClient: number };
}

testUnless(cannotRunHere(), 'lab run moby-15127 --check: verdicts as expected, each backed by reply sources and replies received', async (t) => {
  const before = await rootSnapshot();
  const { json } = await runPinned(t, 'moby-15127', 'e2e');
  for (const v of json.variants) {
    const e = v.evidence as unknown as Evidence;
    t.truthy(e.client && e.client.sent > 0, `${v.name}: the client sent`);
    if (v.verdict === 'REPRODUCED') {
      t.true(e.onBridge.wrongSourceReplies > 0, `${v.name}: a reply with the wrong source was captured`);
      t.true(e.client!.received < e.client!.sent, `${v.name}: and the client missed replies`);
      t.true(e.onBridge.replySources.includes('172.17.0.1'), 'the wrong source is docker0');
    }
    if (v.verdict === 'NOT_REPRODUCED') {
      t.is(e.client!.received, e.client!.sent, `${v.name} receives every reply`);
      t.is(e.onBridge.wrongSourceReplies, 0);
    }
  }
  await assertGone(t, 'moby-15127', 'e2e');
  t.is(await rootSnapshot(), before);
});
