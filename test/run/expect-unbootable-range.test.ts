/**
 * An `unknown` entry for a range no kernel this tool boots falls in (docker-1090-declared's drop-invalid on
 * ">=5.15,<6.1": 5.15 and 6.0 are no Debian suite's) leaves --check unaffected on the kernels it runs: each run is held
 * against the one entry that covers its own kernel, so the unknown range only leaves a run on such a kernel unchecked.
 */
import test from 'ava';
import path from 'node:path';
import { root } from '../helpers/cli.js';
import { loadLab } from '../../src/lab/load.js';
import { SUITES } from '../../src/lab/kernel-series.js';
import { checkExpectation, checkOf, checkPasses } from '../../src/run/expect.js';

const lab = loadLab(path.join(root, 'labs', 'docker-1090-declared'));
const dropInvalid = lab.variants.find((v) => v.name === 'drop-invalid')!;

test('drop-invalid has an unknown entry, and it covers no series this tool boots nor the host kernel here', (t) => {
  const unknown = dropInvalid.expect.filter((e) => e.verdict === 'unknown');
  t.deepEqual(
    unknown.map((e) => e.kernel),
    ['>=5.15,<6.1'],
  );
  // The first and a late patch level of each bootable series, Debian's as lab kernels reads them, and this machine's.
  const kernels = [...SUITES.flatMap((s) => [`${s.series}.0`, `${s.series}.250`]), '5.10.223', '6.1.176', '6.12.117', '6.18.44'];
  for (const kernel of kernels) {
    const check = checkExpectation(lab, 'drop-invalid', kernel, { verdict: 'NOT_REPRODUCED' });
    t.not(check.expected, null, kernel);
    t.not(check.expected!.verdict, 'unknown', `${kernel} is held against ${check.expected!.kernel}`);
    t.not(checkOf(check), 'unchecked', kernel);
  }
});

test('on 5.10 drop-invalid is held against <5.15 (a different verdict fails --check); only a 5.15 or 6.0 run is unchecked', (t) => {
  const on = (kernel: string, verdict: 'REPRODUCED' | 'NOT_REPRODUCED') => {
    const check = checkExpectation(lab, 'drop-invalid', kernel, { verdict });
    return { ...check, verdict, kernel: check.expected?.kernel };
  };
  t.true(checkPasses([on('5.10.223', 'NOT_REPRODUCED')]));
  t.false(checkPasses([on('5.10.223', 'REPRODUCED')]), 'a stall on 5.10 differs from <5.15 NOT_REPRODUCED');
  t.is(on('5.10.223', 'NOT_REPRODUCED').kernel, '<5.15');
  t.true(checkPasses([on('6.1.176', 'REPRODUCED')]));
  t.is(checkOf(on('5.15.100', 'REPRODUCED')), 'unchecked');
  t.is(checkOf(on('6.0.19', 'NOT_REPRODUCED')), 'unchecked');
  t.false(checkPasses([on('5.15.100', 'REPRODUCED')]), 'an unchecked variant still fails --check without --allow-unchecked');
});
