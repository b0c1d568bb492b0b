/** large-download for real: a declared lab with bulk agents; every variant as the lab file expects on this kernel. */
import fs from 'node:fs';
import path from 'node:path';
import { assertGone, cannotRunHere, runPinned, testUnless } from '../helpers/e2e.js';
import { rootSnapshot } from '../helpers/host.js';

interface BulkSummary {
  event: string;
  bytes?: number;
  expectedBytes?: number;
  outcome?: string;
  timeline?: unknown[];
}

testUnless(cannotRunHere(), 'lab run large-download --check: every variant as expected, the download checked byte by byte', async (t) => {
  const before = await rootSnapshot();
  const { json } = await runPinned(t, 'large-download', 'e2e');
  for (const v of json.variants) {
    const log = path.join(json.resultsDir, v.name, 'agents', 'client.jsonl');
    const summary = fs
      .readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as BulkSummary)
      .find((e) => e.event === 'summary')!;
    t.is(summary.expectedBytes, 64 * 1024 * 1024, `${v.name}: the report's size, not a scaled-down one`);
    if (v.verdict === 'NOT_REPRODUCED') t.is(summary.outcome, 'completed', `${v.name}: NOT_REPRODUCED means every byte arrived`);
    if (v.verdict === 'REPRODUCED') t.not(summary.outcome, 'completed', `${v.name}: REPRODUCED means the download failed`);
    t.true((summary.timeline ?? []).length > 0, `${v.name}: throughput over time is recorded`);
  }
  await assertGone(t, 'large-download', 'e2e');
  t.is(await rootSnapshot(), before);
});
