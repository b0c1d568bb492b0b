/** npa-conntrack-race for real: denied flows measured by the kernel datapath decide each verdict. */
import test from 'ava';
import { envFor, lab, tempHome } from '../helpers/cli.js';
import { namespacesWithPrefix, rootSnapshot } from '../helpers/host.js';

interface Evidence {
  timing: { staleEntriesAtTrigger: number; wave2ConnectedFrom: number | null; triggerSnapshotAt: number };
  wave1: { attempts: number; ok: number };
  wave2: { attempts: number; ok: number };
  liveFlowsDeleted: Array<{ tuple: string }>;
  deniedFlows: Array<{ flow: string; packets: number }>;
}

test.serial('lab run npa-conntrack-race: immediate-delete vs consecutive-miss, judged by denied flows', async (t) => {
  const env = envFor(tempHome());
  const before = await rootSnapshot();
  const result = await lab(['run', 'npa-conntrack-race', '--json'], env);
  const json = JSON.parse(result.stdout) as { variants: Array<{ name: string; verdict: string; reason: string; evidence: Evidence }> };
  t.deepEqual(json.variants.map((v) => v.name), ['immediate-delete', 'consecutive-miss']);
  for (const v of json.variants) {
    t.log(`${v.name}: ${v.verdict}: ${v.reason}`);
    const e = v.evidence;
    t.is(e.wave1.ok, e.wave1.attempts, 'wave 1 ran cleanly');
    t.true(e.timing.staleEntriesAtTrigger > 0, 'stale entries existed when wave 2 started');
    t.true(e.timing.wave2ConnectedFrom! > e.timing.triggerSnapshotAt, 'wave 2 connected after the snapshot it races');
    const denied = e.deniedFlows.reduce((n, d) => n + d.packets, 0);
    if (v.verdict === 'REPRODUCED') t.true(denied > 0 && e.liveFlowsDeleted.length > 0);
    if (v.verdict === 'NOT_REPRODUCED') t.is(denied, 0);
  }
  const fix = json.variants.find((v) => v.name === 'consecutive-miss')!;
  t.is(fix.verdict, 'NOT_REPRODUCED', 'the consecutive-miss cleanup never deletes a flow seen in the next snapshot');
  t.is(fix.evidence.wave2.ok, fix.evidence.wave2.attempts);
  t.deepEqual(await namespacesWithPrefix('lab.npa-conntrack-race.'), []);
  t.is(await rootSnapshot(), before);
});
