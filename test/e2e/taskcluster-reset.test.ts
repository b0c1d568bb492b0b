/** taskcluster-reset for real: verdicts follow from RSTs, injected segments and the download's own outcome. */
import test from 'ava';
import { envFor, lab, tempHome } from '../helpers/cli.js';
import { namespacesWithPrefix, rootSnapshot } from '../helpers/host.js';

interface Variant {
  name: string;
  verdict: string;
  reason: string;
  evidence: {
    kernel: string;
    client: { completed: boolean; bytesReceived: number; expectedBytes: number } | null;
    injected: { sent: number; seenOnClientUplink: number; forwardedToContainer: number };
    rst: { fromClientHostAtServer: number; seenByServerAgent: number | null };
    conntrack: { invalidDelta: number | null };
  };
}

test.serial('lab run taskcluster-reset: late segments injected, verdicts from RSTs and the download outcome', async (t) => {
  const env = envFor(tempHome());
  const before = await rootSnapshot();
  const result = await lab(['run', 'taskcluster-reset', '--json'], env);
  const json = JSON.parse(result.stdout) as { kernel: string; variants: Variant[] };
  t.deepEqual(json.variants.map((v) => v.name), ['baseline', 'drop-invalid', 'be-liberal']);
  for (const v of json.variants) {
    t.log(`${v.name}: ${v.verdict}: ${v.reason}`);
    const e = v.evidence;
    t.is(e.kernel, json.kernel, 'the kernel is part of the evidence');
    t.true(e.injected.sent > 0, `${v.name}: late segments were injected`);
    t.true(e.injected.seenOnClientUplink > 0, `${v.name}: and reached the client host`);
    if (v.verdict === 'REPRODUCED') t.true(e.rst.fromClientHostAtServer > 0);
    if (v.verdict === 'NOT_REPRODUCED') {
      t.is(e.rst.fromClientHostAtServer, 0);
      t.true(e.client!.completed, 'a download without reset completed with the right hash');
    }
  }
  for (const name of ['drop-invalid', 'be-liberal']) {
    const v = json.variants.find((x) => x.name === name)!;
    t.is(v.evidence.rst.fromClientHostAtServer, 0, `${name}: the fix leaves no RST`);
  }
  t.deepEqual(await namespacesWithPrefix('lab.taskcluster-reset.'), []);
  t.is(await rootSnapshot(), before);
});
