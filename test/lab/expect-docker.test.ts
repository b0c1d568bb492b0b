/** `docker:` in expect entries: which engines an entry covers, matched against the run's engine, and overlaps refused. */
import test from 'ava';
import { dockerMatches, expectationFor, expectationProblems, parseDockerSelector, type Expectation } from '../../src/lab/expect.js';
import { checkExpectation, expectationLine } from '../../src/run/expect.js';

const EMULATED = 'emulated on dhost';
const D2010 = "Docker 20.10.24+dfsg1 (real dockerd, Debian's 20.10) on dhost";
const D261 = "Docker 26.1.5+dfsg1 (real dockerd, Debian's 26.1) on dhost";

const entry = (docker: string | undefined, verdict: Expectation['verdict']): Expectation => ({
  kernel: '*',
  verdict,
  why: 'w',
  source: 'https://example.org/x',
  ...(docker === undefined ? {} : { docker }),
});

test('a selector is emulated or a version range of a real engine; bad ones say why', (t) => {
  t.deepEqual(parseDockerSelector('emulated'), { emulated: true });
  t.is(typeof parseDockerSelector('>=23'), 'object');
  t.is(typeof parseDockerSelector('20.10'), 'object');
  t.regex(parseDockerSelector('*') as string, /leave docker out/);
  t.regex(parseDockerSelector('latest') as string, /not a comparator/);
});

test("an entry matches a run when every docker host's engine is in its selector", (t) => {
  t.true(dockerMatches(undefined, D261));
  t.true(dockerMatches(undefined, undefined));
  t.true(dockerMatches('emulated', EMULATED));
  t.false(dockerMatches('emulated', D2010));
  t.true(dockerMatches('<23', D2010));
  t.false(dockerMatches('<23', D261));
  t.true(dockerMatches('>=23', D261));
  t.false(dockerMatches('>=23', EMULATED));
  t.true(dockerMatches('20.10', D2010));
  t.false(dockerMatches('20.10', `${D2010}; ${D261}`), 'two hosts: both must be covered');
  t.false(dockerMatches('emulated', undefined), 'a lab without a docker host has no engine to match');
});

test('the expectation of a run is the entry for its kernel and engine; the check says which', (t) => {
  const entries = [entry('emulated', 'REPRODUCED'), entry('<23', 'REPRODUCED'), entry('>=23', 'NOT_REPRODUCED')];
  t.is(expectationFor(entries, '6.18.44', D261)?.verdict, 'NOT_REPRODUCED');
  t.is(expectationFor(entries, '6.18.44', D2010)?.docker, '<23');
  t.is(expectationFor(entries, '6.18.44', EMULATED)?.docker, 'emulated');
  const lab = { variants: [{ name: 'as-is', expect: entries }] };
  t.deepEqual(checkExpectation(lab, 'as-is', '6.18.44', { verdict: 'NOT_REPRODUCED' }, D261).matchesExpected, true);
  t.deepEqual(checkExpectation(lab, 'as-is', '6.18.44', { verdict: 'NOT_REPRODUCED' }, EMULATED).matchesExpected, false);
  const check = checkExpectation(lab, 'as-is', '6.18.44', { verdict: 'REPRODUCED' }, D2010);
  t.is(check.expected?.docker, '<23');
  t.is(expectationLine(check, 'REPRODUCED', '6.18.44'), 'as expected on * with Docker <23 (REPRODUCED)');
});

test('entries overlap only where both their kernels and their engines do', (t) => {
  t.deepEqual(expectationProblems([entry('emulated', 'REPRODUCED'), entry('<23', 'REPRODUCED'), entry('>=23', 'NOT_REPRODUCED')]), []);
  t.deepEqual(expectationProblems([entry('>=20', 'REPRODUCED'), entry('26.1', 'NOT_REPRODUCED')]), [
    {
      index: 1,
      field: 'kernel',
      message: 'kernel "*" with docker "26.1" overlaps "*" with docker ">=20" of entry [0]; give each kernel and engine one expectation',
    },
  ]);
  t.is(expectationProblems([entry(undefined, 'REPRODUCED'), entry('emulated', 'REPRODUCED')]).length, 1, 'an entry without docker covers every engine');
});
