/**
 * moby-15127's verdict rules (labs/moby-15127/lab.yaml) against udp-reply-source's coded judge: every recorded mode, and
 * each with broken evidence, gets the same verdict and kind both ways. Known and asserted: replies lost with none from
 * another address are INCONCLUSIVE both ways, the judge's outcome facet "seen", the rules' "unknown".
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { readBridge, udpReplySourceScenario as s, type ReplyEvidence } from '../../src/run/scenarios/udp-reply-source.js';
import { codedRules, judgeCoded } from '../../src/run/declarative/coded.js';
import { CaptureReader } from '../../src/run/pcap.js';
import type { Verdict } from '../../src/run/verdict.js';
import { recorded, recordedFile } from './recorded.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const LAB = 'moby-15127';
const labFile = parse(fs.readFileSync(path.join(root, 'labs', LAB, 'lab.yaml'), 'utf8')) as { scenario: { params: object; verdict: unknown } };
const rules = codedRules(s, labFile.scenario.verdict)!;
const params = (mode: string) => s.params.parse({ ...labFile.scenario.params, mode });

/** The TCP recording predates reading its capture: read it as run() does now. */
async function evidence(mode: string): Promise<ReplyEvidence> {
  const e = recorded<ReplyEvidence>(LAB, mode).evidence;
  if (mode !== 'tcp') return e;
  const reader = new CaptureReader();
  const onBridge = await readBridge(reader, recordedFile(LAB, 'tcp', 'pcap/host-docker0.pcap'), {
    proto: 'tcp',
    port: 56789,
    client: '172.17.0.2',
    target: '10.15.1.2',
  });
  return { ...e, onBridge, captureProblems: reader.problems };
}

type Change = (e: ReplyEvidence) => ReplyEvidence;
const client =
  (c: Partial<NonNullable<ReplyEvidence['client']>>): Change =>
  (e) => ({ ...e, client: e.client ? { ...e.client, ...c } : e.client });
const bridge =
  (b: Partial<ReplyEvidence['onBridge']>): Change =>
  (e) => ({ ...e, onBridge: { ...e.onBridge, ...b } });
const MUTATIONS: Record<string, Change> = {
  'no client summary': (e) => ({ ...e, client: null, clientProblem: 'the client agent produced no summary' }),
  'nothing sent': client({ sent: 0 }),
  'capture unreadable': (e) => ({ ...e, captureProblems: ['capture cannot be read'] }),
  'no reply on the bridge': bridge({ replies: 0, wrongSourceReplies: 0 }),
  'agent and capture disagree': (e) => client({ received: e.onBridge.replies - e.onBridge.wrongSourceReplies + 1 })(e),
  'replies lost, none from another address': (e) => bridge({ replies: 3, wrongSourceReplies: 0 })(client({ sent: 5, received: 3 })(e)),
  'replies lost from another address': (e) => bridge({ replies: 5, wrongSourceReplies: 2 })(client({ sent: 5, received: 3 })(e)),
  'every reply back, some from another address': (e) => bridge({ replies: 7, wrongSourceReplies: 2 })(client({ sent: 5, received: 5 })(e)),
};
const brief = (v: Verdict) => ({ verdict: v.verdict, kind: v.inconclusive, outcome: v.outcome?.seen, mechanism: v.mechanism?.seen });

function compare(t: import('ava').ExecutionContext, e: ReplyEvidence, mode: string, what: string): Verdict {
  const coded = s.judge(e, params(mode));
  const { measures: _m, ...ruled } = judgeCoded(s, rules, e, params(mode));
  const expected = brief(coded);
  // Past the preconditions, an INCONCLUSIVE judge may still say whether the failure was seen; the rules' outcome follows their verdict.
  if (coded.verdict === 'INCONCLUSIVE' && !s.rules!.preconditions(e, params(mode)) && coded.outcome && coded.outcome.seen !== null) {
    t.is(ruled.outcome?.seen, null, `${what}: the rules' outcome follows their INCONCLUSIVE`);
    expected.outcome = null;
  }
  t.deepEqual(brief(ruled), expected, `${what}: rules ${ruled.verdict} (${ruled.reason}); judge ${coded.verdict} (${coded.reason})`);
  return ruled;
}

test('every recorded moby-15127 mode, and each with broken evidence: the rules give the judge verdict and kind', async (t) => {
  const modes = fs.readdirSync(path.join(root, 'test', 'fixtures', 'runs', LAB));
  t.true(modes.length >= 4);
  const seen = new Set<string>();
  for (const mode of modes) {
    const e = await evidence(mode);
    const ruled = compare(t, e, mode, mode);
    if (mode !== 'tcp') t.is(ruled.verdict, recorded<ReplyEvidence>(LAB, mode).verdict, `${mode}: the verdict recorded when it ran`);
    for (const [name, change] of Object.entries(MUTATIONS)) seen.add(compare(t, change(e), mode, `${mode}, ${name}`).verdict);
  }
  t.deepEqual([...seen].sort(), ['INCONCLUSIVE', 'NOT_REPRODUCED', 'REPRODUCED']);
});
