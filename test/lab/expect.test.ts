/** Kernel ranges of `expect` entries: parsing, matching `uname -r`, overlaps, which entry covers a kernel. */
import test from 'ava';
import { expectationFor, expectationProblems, parseKernelRange, parseKernelVersion, rangeContains, rangesOverlap } from '../../src/lab/expect.js';
import type { Expectation, KernelRange } from '../../src/lab/expect.js';

const range = (text: string): KernelRange => {
  const r = parseKernelRange(text);
  if (typeof r === 'string') throw new Error(r);
  return r;
};
const entry = (kernel: string, verdict: Expectation['verdict'] = 'REPRODUCED'): Expectation => ({
  kernel,
  verdict,
  why: `because ${kernel}`,
  source: 'https://example.org/x',
});

test('uname -r compares as numbers on major.minor.patch, the suffix ignored', (t) => {
  t.deepEqual(parseKernelVersion('6.18.44-fc-v782'), [6, 18, 44]);
  t.deepEqual(parseKernelVersion('5.10.0-32-amd64'), [5, 10, 0]);
  t.deepEqual(parseKernelVersion('6.1'), [6, 1, 0]);
  t.is(parseKernelVersion('linux'), undefined);
  t.true(rangeContains(range('>=6.9'), parseKernelVersion('6.10.1')!), '6.10 is after 6.9 (numbers, not text)');
  t.false(rangeContains(range('<6.2'), parseKernelVersion('6.10.1')!));
});

test('comparators joined by "," are one interval; bounds are inclusive or exclusive as written', (t) => {
  const r = range('>=5.10,<6.1');
  t.true(rangeContains(r, [5, 10, 0]));
  t.true(rangeContains(r, [6, 0, 19]));
  t.false(rangeContains(r, [6, 1, 0]));
  t.false(rangeContains(r, [5, 4, 300]));
  t.true(rangeContains(range('<=6.1.192'), [6, 1, 192]));
  t.false(rangeContains(range('>6.1.192'), [6, 1, 192]));
  t.true(rangeContains(range('*'), [2, 6, 32]));
});

test('a bare X.Y is that series', (t) => {
  const r = range('6.12');
  t.true(rangeContains(r, [6, 12, 0]));
  t.true(rangeContains(r, [6, 12, 117]));
  t.false(rangeContains(r, [6, 13, 0]));
  t.false(rangeContains(r, [6, 1, 0]));
});

test('bad ranges say what is wrong', (t) => {
  t.regex(parseKernelRange('>=6.1,>=6.2') as string, /two lower bounds/);
  t.regex(parseKernelRange('~6.1') as string, /not a comparator/);
  t.regex(parseKernelRange('>=6.x') as string, /not a comparator/);
  t.regex(parseKernelRange('>=6.2,<6.1') as string, /contains no kernel version/);
  t.regex(parseKernelRange('6.1.5') as string, /names one release/);
  t.regex(parseKernelRange('') as string, /empty/);
  t.regex(parseKernelRange('6.1,<7.0') as string, /cannot be combined/);
});

test('overlaps: touching bounds overlap only when both include the version', (t) => {
  t.false(rangesOverlap(range('<6.1'), range('>=6.1')));
  t.true(rangesOverlap(range('<=6.1'), range('>=6.1')));
  t.true(rangesOverlap(range('*'), range('6.12')));
  t.false(rangesOverlap(range('6.1'), range('6.12')));
  t.true(rangesOverlap(range('>=5.10,<6.2'), range('6.1')));
});

test('the entry covering the kernel, or null when none does', (t) => {
  const entries = [entry('<6.1', 'REPRODUCED'), entry('>=6.1', 'NOT_REPRODUCED')];
  t.is(expectationFor(entries, '5.10.0-32-amd64')?.verdict, 'REPRODUCED');
  t.is(expectationFor(entries, '6.18.44-fc-v782')?.verdict, 'NOT_REPRODUCED');
  t.is(expectationFor([entry('>=6.1,<6.13')], '6.18.44'), null);
  t.is(expectationFor(entries, 'not-a-version'), null);
});

test('overlapping entries of one variant are a problem at the later entry', (t) => {
  t.deepEqual(expectationProblems([entry('<6.1'), entry('>=6.1')]), []);
  const problems = expectationProblems([entry('>=5.10,<6.2'), entry('>=6.1')]);
  t.is(problems.length, 1);
  t.is(problems[0]!.index, 1);
  t.is(problems[0]!.field, 'kernel');
  t.regex(problems[0]!.message, /overlaps ">=5.10,<6.2" of entry \[0\]/);
});

test('an expected INCONCLUSIVE must name its kind, and only an INCONCLUSIVE names one', (t) => {
  const gap: Expectation = { ...entry('*', 'INCONCLUSIVE'), inconclusive: 'emulation-gap' };
  t.deepEqual(expectationProblems([gap]), []);
  const kindless = expectationProblems([entry('*', 'INCONCLUSIVE')]);
  t.deepEqual(
    kindless.map((p) => [p.index, p.field]),
    [[0, 'inconclusive']],
  );
  t.regex(kindless[0]!.message, /^missing: an expected INCONCLUSIVE names its kind, "inconclusive: emulation-gap"/);
  const decided = expectationProblems([entry('<6.1', 'REPRODUCED'), { ...entry('>=6.1', 'NOT_REPRODUCED'), inconclusive: 'emulation-gap' }]);
  t.deepEqual(
    decided.map((p) => [p.index, p.field, p.message]),
    [[1, 'inconclusive', 'found "emulation-gap" on an expected NOT_REPRODUCED; only an expected INCONCLUSIVE names a kind']],
  );
  t.deepEqual(expectationProblems([{ ...entry('*', 'unknown') }]), [], 'unknown needs no kind');
});
