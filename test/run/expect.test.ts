/** A run's verdicts held against the lab file's expectations: the fields --json gives, the DIFFERS line, --check. */
import test from 'ava';
import { checkExpectation, checkPasses, expectationLine, withExpectations } from '../../src/run/expect.js';
import { verdictTable } from '../../src/report/console.js';
import { buildMatrix, matrixMarkdown } from '../../src/report/matrix.js';
import type { Expectation } from '../../src/lab/expect.js';
import type { RunResult } from '../../src/run/run-lab.js';

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
  ],
};

const blank = { description: '', changes: [], evidence: {}, durationMs: 1, decidedBy: [] };

test('the entry for the kernel at hand, and whether the verdict matches it', (t) => {
  const expected = { verdict: 'NOT_REPRODUCED', kernel: '>=6.1', why, source };
  t.deepEqual(checkExpectation(lab, 'upstream', '6.18.44-fc-v782', 'NOT_REPRODUCED'), { expected, matchesExpected: true });
  t.is(checkExpectation(lab, 'upstream', '6.18.44', 'REPRODUCED').matchesExpected, false);
  t.is(checkExpectation(lab, 'upstream', '5.10.0-32-amd64', 'REPRODUCED').matchesExpected, true);
  t.is(checkExpectation(lab, 'upstream', '6.18.44', 'INCONCLUSIVE').matchesExpected, false, 'INCONCLUSIVE differs from a decided expectation');
  t.deepEqual(checkExpectation(lab, 'bare', '6.18.44', 'REPRODUCED'), { expected: null, matchesExpected: null });
  t.is(checkExpectation(lab, 'fresh', '6.18.44', 'REPRODUCED').matchesExpected, null, 'unknown matches nothing and differs from nothing');
  t.is(checkExpectation(lab, 'fresh', '5.10.0', 'REPRODUCED').expected, null, 'no entry covers 5.10');
});

test('a difference is spelled out with the expected verdict, the range and the why', (t) => {
  const differs = checkExpectation(lab, 'upstream', '6.18.44', 'REPRODUCED');
  t.is(expectationLine(differs, 'REPRODUCED', '6.18.44'), `DIFFERS from expected NOT_REPRODUCED on >=6.1: ${why}`);
  t.is(expectationLine(checkExpectation(lab, 'bare', '6.18.44', 'REPRODUCED'), 'REPRODUCED', '6.18.44'), 'no expectation for 6.18.44');
  t.is(expectationLine(checkExpectation(lab, 'upstream', '6.18.44', 'NOT_REPRODUCED'), 'NOT_REPRODUCED', '6.18.44'), 'as expected on >=6.1 (NOT_REPRODUCED)');
});

test('the verdict table marks the difference and lists variants without an expectation', (t) => {
  const base = { lab: 'l', title: 't', provider: 'netns', kernel: '6.18.44-fc-v782', runId: 'r', resultsDir: '/nonexistent', startedAt: '' };
  const variant = (name: string, verdict: 'REPRODUCED' | 'NOT_REPRODUCED') => ({ ...blank, name, verdict, reason: `${name} reason` });
  const run: RunResult = withExpectations(lab, { ...base, variants: [variant('upstream', 'REPRODUCED'), variant('bare', 'NOT_REPRODUCED')] });
  const table = verdictTable(run);
  t.regex(table, /^upstream\s+REPRODUCED\s+DIFFERS: NOT_REPRODUCED\s+upstream reason$/m);
  t.regex(table, /^upstream: DIFFERS from expected NOT_REPRODUCED on >=6\.1: conntrack ignores/m);
  t.regex(table, /^bare: no expectation for 6\.18\.44-fc-v782$/m);
});

test('--check fails on a verdict that differs and on an unexpected INCONCLUSIVE, not on an expected INCONCLUSIVE nor on unknown', (t) => {
  t.false(checkPasses([{ verdict: 'REPRODUCED', expected: null, matchesExpected: false }]), 'a decided verdict that differs fails');
  t.false(checkPasses([{ verdict: 'INCONCLUSIVE', expected: null, matchesExpected: false }]), 'an INCONCLUSIVE nobody expected fails');
  t.false(checkPasses([{ verdict: 'INCONCLUSIVE', expected: null, matchesExpected: null }]), 'an INCONCLUSIVE without an expectation fails');
  t.true(checkPasses([{ verdict: 'INCONCLUSIVE', expected: null, matchesExpected: true }]), 'an expected INCONCLUSIVE passes');
  t.true(checkPasses([{ verdict: 'REPRODUCED', expected: null, matchesExpected: null }]), 'no expectation (or unknown) does not fail a decided verdict');
  t.true(checkPasses([{ verdict: 'NOT_REPRODUCED', expected: null, matchesExpected: true }]));
});

test('lab matrix marks the cells that differ from the expectation of their kernel', (t) => {
  const variant = (verdict: 'REPRODUCED' | 'NOT_REPRODUCED') => ({ ...blank, name: 'upstream', verdict, reason: '' });
  const run = (kernel: string, verdict: 'REPRODUCED' | 'NOT_REPRODUCED', runId: string): RunResult =>
    withExpectations(lab, { lab: 'l', title: 't', provider: 'netns', kernel, runId, resultsDir: '/nonexistent', startedAt: '', variants: [variant(verdict)] });
  const matrix = buildMatrix([run('6.18.44', 'REPRODUCED', 'new'), run('5.10.223', 'REPRODUCED', 'old')]);
  t.deepEqual(
    matrix.rows[0]!.cells.map((c) => [c.verdict, c.expected, c.differs]),
    [
      ['REPRODUCED', 'REPRODUCED', false],
      ['REPRODUCED', 'NOT_REPRODUCED', true],
    ],
  );
  const md = matrixMarkdown(matrix);
  t.regex(md, /\| upstream \| REPRODUCED \| \*\*REPRODUCED ≠ expected NOT_REPRODUCED\*\* \|/);
  t.regex(md, /1 cell\(s\) differ from what the lab file expects/);
});
