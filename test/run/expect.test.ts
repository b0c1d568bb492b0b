/** A run's verdicts held against the lab file's expectations: the fields --json gives, the DIFFERS and unchecked lines, --check. */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { checkExpectation, checkFailures, checkOf, checkPasses, expectationLine, withExpectations } from '../../src/run/expect.js';
import { verdictTable } from '../../src/report/console.js';
import { buildMatrix, matrixMarkdown } from '../../src/report/matrix.js';
import type { Expectation } from '../../src/lab/expect.js';
import { runVariant, type RunResult } from '../../src/run/run-lab.js';
import type { ResolvedLab, ResolvedVariant } from '../../src/lab/model.js';
import type { Provider } from '../../src/providers/types.js';
import type { Scenario } from '../../src/run/scenarios/types.js';
import type { InconclusiveKind, VerdictValue } from '../../src/run/verdict.js';

const why = 'conntrack ignores overly delayed segments from 6.1 on';
const source = 'https://git.kernel.org/netdev/net-next/c/6e250dcbff1d';
const lab = {
  variants: [
    {
      name: 'upstream',
      expect: [
        { kernel: '<6.1', verdict: 'REPRODUCED', why: 'INVALID before 6.1', source },
        { kernel: '>=6.1', verdict: 'NOT_REPRODUCED', why, source },
      ] as Expectation[],
    },
    { name: 'fresh', expect: [{ kernel: '>=6.1', verdict: 'unknown', why: 'not run yet', source }] as Expectation[] },
    { name: 'bare', expect: [] as Expectation[] },
    { name: 'gap', expect: [{ kernel: '*', verdict: 'INCONCLUSIVE', inconclusive: 'emulation-gap', why: 'not emulated', source }] as Expectation[] },
    { name: 'patched', expect: [{ kernel: '<5.10.234', verdict: 'REPRODUCED', why: 'before the backport', source }] as Expectation[] },
  ],
};

const blank = { description: '', changes: [], evidence: {}, durationMs: 1, decidedBy: [] };
const decided = (verdict: VerdictValue) => ({ verdict });
const inconclusive = (kind?: InconclusiveKind, error?: string) => ({
  verdict: 'INCONCLUSIVE' as const,
  ...(kind ? { inconclusive: kind } : {}),
  ...(error ? { error } : {}),
});

test('the entry for the kernel at hand, and whether the verdict matches it', (t) => {
  const expected = { verdict: 'NOT_REPRODUCED', kernel: '>=6.1', why, source };
  t.deepEqual(checkExpectation(lab, 'upstream', '6.18.44-fc-v782', decided('NOT_REPRODUCED')), { expected, matchesExpected: true });
  t.is(checkExpectation(lab, 'upstream', '6.18.44', decided('REPRODUCED')).matchesExpected, false);
  t.is(checkExpectation(lab, 'upstream', '5.10.0-32-amd64', decided('REPRODUCED')).matchesExpected, true);
  t.is(
    checkExpectation(lab, 'upstream', '6.18.44', inconclusive('evidence-missing')).matchesExpected,
    false,
    'INCONCLUSIVE differs from a decided expectation',
  );
  t.deepEqual(checkExpectation(lab, 'bare', '6.18.44', decided('REPRODUCED')), { expected: null, matchesExpected: null });
  t.is(checkExpectation(lab, 'fresh', '6.18.44', decided('REPRODUCED')).matchesExpected, null, 'unknown matches nothing and differs from nothing');
  t.is(checkExpectation(lab, 'fresh', '5.10.0', decided('REPRODUCED')).expected, null, 'no entry covers 5.10');
  t.is(checkExpectation(lab, 'nonexistent', '6.18.44', decided('REPRODUCED')).expected, null, 'a variant the lab does not know has no expectation');
});

test('unchecked: no entry for the kernel, an "unknown" entry, or a kernel without a version', (t) => {
  t.is(checkOf(checkExpectation(lab, 'bare', '6.18.44', decided('REPRODUCED'))), 'unchecked');
  t.is(checkOf(checkExpectation(lab, 'fresh', '6.18.44', decided('NOT_REPRODUCED'))), 'unchecked');
  t.is(checkOf(checkExpectation(lab, 'upstream', 'unknown', decided('NOT_REPRODUCED'))), 'unchecked', 'the kernel could not be read');
  t.is(checkOf(checkExpectation(lab, 'upstream', '6.18.44', decided('NOT_REPRODUCED'))), 'matches');
  t.is(checkOf(checkExpectation(lab, 'upstream', '6.18.44', decided('REPRODUCED'))), 'differs');
});

test('an expected INCONCLUSIVE matches only an INCONCLUSIVE of its kind from a variant that did not fail', (t) => {
  const check = (outcome: Parameters<typeof checkExpectation>[3]) => checkOf(checkExpectation(lab, 'gap', '6.18.44', outcome));
  t.is(check(inconclusive('emulation-gap')), 'matches');
  t.deepEqual(checkExpectation(lab, 'gap', '6.18.44', inconclusive('emulation-gap')).expected, {
    verdict: 'INCONCLUSIVE',
    inconclusive: 'emulation-gap',
    kernel: '*',
    why: 'not emulated',
    source,
  });
  t.is(check(inconclusive('error', 'agent died')), 'differs', 'a scenario that threw');
  t.is(check(inconclusive('emulation-gap', 'timed out')), 'differs', 'a failed variant never matches, whatever kind it carries');
  t.is(check(inconclusive('evidence-missing')), 'differs');
  t.is(check(inconclusive('evidence-conflict')), 'differs');
  t.is(check(inconclusive()), 'differs', 'an INCONCLUSIVE saved without a kind is evidence-missing');
  t.is(check(decided('NOT_REPRODUCED')), 'differs', 'a decided verdict differs from an expected INCONCLUSIVE');
  const kindless = { variants: [{ name: 'gap', expect: [{ kernel: '*', verdict: 'INCONCLUSIVE', why, source }] as Expectation[] }] };
  t.is(checkOf(checkExpectation(kindless, 'gap', '6.18.44', inconclusive('emulation-gap'))), 'differs', 'an expectation without a kind matches nothing');
});

test('expectations match on the upstream version, not on the patch level uname -r hides', (t) => {
  const run = (kernelVersion?: string) =>
    withExpectations(lab, {
      kernel: '5.10.0-32-amd64',
      ...(kernelVersion ? { kernelVersion } : {}),
      variants: [{ name: 'patched', verdict: 'REPRODUCED' as const }],
    }).variants[0]!;
  t.is(checkOf(run('5.10.223')), 'matches', '5.10.223 is before 5.10.234');
  t.is(checkOf(run('5.10.234')), 'unchecked', 'no entry covers 5.10.234');
  t.is(checkOf(run()), 'matches', 'without the version, uname -r (5.10.0)');
});

test('a difference is spelled out with the expected verdict, the range and the why; unchecked says why', (t) => {
  const differs = checkExpectation(lab, 'upstream', '6.18.44', decided('REPRODUCED'));
  t.is(expectationLine(differs, 'REPRODUCED', '6.18.44'), `DIFFERS from expected NOT_REPRODUCED on >=6.1: ${why}`);
  t.is(expectationLine(checkExpectation(lab, 'bare', '6.18.44', decided('REPRODUCED')), 'REPRODUCED', '6.18.44'), 'unchecked: no expectation for 6.18.44');
  t.is(
    expectationLine(checkExpectation(lab, 'fresh', '6.18.44', decided('REPRODUCED')), 'REPRODUCED', '6.18.44'),
    'unchecked: expected unknown on >=6.1: not run yet',
  );
  t.is(
    expectationLine(checkExpectation(lab, 'upstream', '6.18.44', decided('NOT_REPRODUCED')), 'NOT_REPRODUCED', '6.18.44'),
    'as expected on >=6.1 (NOT_REPRODUCED)',
  );
  const gap = checkExpectation(lab, 'gap', '6.18.44', inconclusive('error'));
  t.is(expectationLine(gap, 'INCONCLUSIVE', '6.18.44'), 'DIFFERS from expected INCONCLUSIVE (emulation-gap) on *: not emulated');
});

test('the verdict table marks the difference, the kind of an INCONCLUSIVE, the facets, and lists unchecked variants', (t) => {
  const base = {
    lab: 'l',
    title: 't',
    provider: 'netns',
    kernel: '5.10.0-32-amd64',
    kernelVersion: '5.10.223',
    runId: 'r',
    resultsDir: '/nonexistent',
    startedAt: '',
  };
  const variant = (name: string, verdict: VerdictValue) => ({ ...blank, name, verdict, reason: `${name} reason` });
  const outcome = { failure: 'connection reset', seen: true, detail: 'ECONNRESET' };
  const mechanism = { name: 'RST from the client host', seen: null, detail: 'no capture' };
  const run: RunResult = withExpectations(lab, {
    ...base,
    variants: [
      { ...variant('upstream', 'NOT_REPRODUCED'), outcome, mechanism },
      variant('bare', 'NOT_REPRODUCED'),
      { ...variant('gap', 'INCONCLUSIVE'), inconclusive: 'error' as const, error: 'boom' },
    ],
  });
  const table = verdictTable(run);
  t.regex(table, /^l on netns, kernel 5\.10\.0-32-amd64 \(5\.10\.223\)$/m);
  t.regex(table, /^upstream\s+NOT_REPRODUCED\s+DIFFERS: REPRODUCED\s+yes\s+\?\s+upstream reason$/m);
  t.regex(table, /^bare\s+NOT_REPRODUCED\s+unchecked\s+—\s+—\s+bare reason$/m);
  t.regex(table, /^gap\s+INCONCLUSIVE \(error\)\s+DIFFERS: INCONCLUSIVE \(emulation-gap\)\s/m);
  t.regex(table, /^upstream: DIFFERS from expected REPRODUCED on <6\.1: INVALID before 6\.1$/m, 'matched on 5.10.223');
  t.regex(table, /^bare: unchecked: no expectation for 5\.10\.223$/m);
});

test('--check: every variant must match; --allow-unchecked lets a decided unchecked verdict pass, never a difference or an INCONCLUSIVE', (t) => {
  const v = (verdict: VerdictValue, matchesExpected: boolean | null) => ({ name: 'v', verdict, expected: null, matchesExpected });
  t.true(checkPasses([v('NOT_REPRODUCED', true), v('INCONCLUSIVE', true)]), 'everything as expected (an INCONCLUSIVE of the expected kind)');
  t.false(checkPasses([v('REPRODUCED', false)]), 'a decided verdict that differs fails');
  t.false(checkPasses([v('REPRODUCED', false)], { allowUnchecked: true }), 'a difference fails also with --allow-unchecked');
  t.false(checkPasses([v('INCONCLUSIVE', false)], { allowUnchecked: true }), 'an INCONCLUSIVE of another kind fails');
  t.false(checkPasses([v('REPRODUCED', null)]), 'unchecked fails --check');
  t.true(checkPasses([v('REPRODUCED', null)], { allowUnchecked: true }), '... unless --allow-unchecked');
  t.false(checkPasses([v('INCONCLUSIVE', null)], { allowUnchecked: true }), 'an unchecked INCONCLUSIVE fails even with --allow-unchecked');
  t.false(checkPasses([v('NOT_REPRODUCED', true), v('REPRODUCED', null)]), 'one variant is enough to fail');
  t.deepEqual(
    checkFailures([
      { ...v('REPRODUCED', null), name: 'a' },
      { ...v('INCONCLUSIVE', null), name: 'b' },
      { ...v('REPRODUCED', false), name: 'c' },
    ]),
    [
      'a: unchecked (no expectation for this kernel); --allow-unchecked accepts it',
      'b: INCONCLUSIVE, and nothing expected it',
      'c: REPRODUCED differs from its expectation',
    ],
  );
});

test('a run whose scenario threw (INCONCLUSIVE, kind error) fails --check against an expected emulation-gap', (t) => {
  const run = withExpectations(lab, { kernel: '6.18.44', variants: [{ name: 'gap', ...inconclusive('error', 'Error: agent exited 1') }] });
  t.false(checkPasses(run.variants));
  t.false(checkPasses(run.variants, { allowUnchecked: true }));
});

test('lab matrix marks the cells that differ from the expectation of their kernel, and the unchecked ones', (t) => {
  const variant = (name: string, verdict: VerdictValue) => ({ ...blank, name, verdict, reason: '' });
  const run = (kernel: string, verdict: VerdictValue, runId: string): RunResult =>
    withExpectations(lab, {
      lab: 'l',
      title: 't',
      provider: 'netns',
      kernel,
      runId,
      resultsDir: '/nonexistent',
      startedAt: '',
      variants: [variant('upstream', verdict), variant('fresh', verdict)],
    });
  const matrix = buildMatrix([run('6.18.44', 'REPRODUCED', 'new'), run('5.10.223', 'REPRODUCED', 'old')]);
  t.deepEqual(
    matrix.rows[0]!.cells.map((c) => [c.verdict, c.expected, c.differs, c.unchecked]),
    [
      ['REPRODUCED', 'REPRODUCED', false, false],
      ['REPRODUCED', 'NOT_REPRODUCED', true, false],
    ],
  );
  t.deepEqual(
    matrix.rows[1]!.cells.map((c) => [c.expected, c.differs, c.unchecked]),
    [
      [undefined, false, true],
      [undefined, false, true],
    ],
    'fresh: nothing expected on 5.10, unknown on 6.18',
  );
  const md = matrixMarkdown(matrix);
  t.regex(md, /\| upstream \| REPRODUCED \| \*\*REPRODUCED ≠ expected NOT_REPRODUCED\*\* \|/);
  t.regex(md, /\| fresh \| REPRODUCED \(unchecked\) \| REPRODUCED \(unchecked\) \|/);
  t.regex(md, /1 cell\(s\) differ from what the lab file expects/);
  t.regex(md, /2 cell\(s\) are unchecked/);
});

test('a scenario that throws is INCONCLUSIVE of kind error, and that never matches an expected emulation-gap', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-expect-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const provider = { name: 'fake', ownsHosts: false } as unknown as Provider;
  const scenario = {
    kind: 'throws',
    summary: '',
    params: z.object({}),
    nodeRefs: () => [],
    run: async () => {
      throw new Error('agent exited 1');
    },
    judge: () => {
      throw new Error('never judged: the run failed');
    },
  } as unknown as Scenario;
  const variant = { name: 'gap', description: '', changes: [], params: {}, expect: lab.variants[3]!.expect } as unknown as ResolvedVariant;
  const result = await runVariant({} as ResolvedLab, provider, scenario, variant, dir);
  t.like(result, { verdict: 'INCONCLUSIVE', inconclusive: 'error', decidedBy: ['error'] });
  t.regex(result.error ?? '', /agent exited 1/);
  const checked = withExpectations(lab, { kernel: '6.18.44', variants: [result] }).variants[0]!;
  t.is(checkOf(checked), 'differs');
  t.false(checkPasses([checked], { allowUnchecked: true }));
});
