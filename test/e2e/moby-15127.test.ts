/** moby-15127 for real: the fixes must always get every reply; the baseline's verdict must match its capture. */
import test from 'ava';
import { envFor, lab, tempHome } from '../helpers/cli.js';
import { namespacesWithPrefix, rootSnapshot } from '../helpers/host.js';

interface Variant {
  name: string;
  verdict: string;
  reason: string;
  evidence: {
    client: { sent: number; received: number } | null;
    onBridge: { replies: number; replySources: string[]; wrongSourceReplies: number; icmpPortUnreachableFromClient: number };
    target: string;
  };
}

test.serial('lab run moby-15127: reply sources, replies received and ICMP errors decide each verdict', async (t) => {
  const env = envFor(tempHome());
  const before = await rootSnapshot();
  const result = await lab(['run', 'moby-15127', '--json'], env);
  const json = JSON.parse(result.stdout) as { variants: Variant[] };
  t.deepEqual(json.variants.map((v) => v.name), ['recvfrom-any', 'bind-address', 'pktinfo', 'tcp']);
  for (const v of json.variants) {
    t.log(`${v.name}: ${v.verdict}: ${v.reason}`);
    const e = v.evidence;
    t.truthy(e.client && e.client.sent > 0, `${v.name}: the client sent`);
    if (v.verdict === 'REPRODUCED') {
      t.true(e.onBridge.wrongSourceReplies > 0, 'a reply with the wrong source was captured');
      t.true(e.client!.received < e.client!.sent, 'and the client missed replies');
    }
  }
  for (const name of ['bind-address', 'pktinfo', 'tcp']) {
    const v = json.variants.find((x) => x.name === name)!;
    t.is(v.verdict, 'NOT_REPRODUCED', `${name}: ${v.reason}`);
    t.is(v.evidence.client!.received, v.evidence.client!.sent, `${name} receives every reply`);
    t.is(v.evidence.onBridge.wrongSourceReplies, 0);
  }
  const baseline = json.variants[0]!;
  if (baseline.verdict === 'REPRODUCED') t.true(baseline.evidence.onBridge.replySources.includes('172.17.0.1'), 'the wrong source is docker0');
  t.deepEqual(await namespacesWithPrefix('lab.moby-15127.'), []);
  t.is(await rootSnapshot(), before);
});
