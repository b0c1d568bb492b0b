/**
 * `lab run --check` against a copy of moby-15127 whose tcp variant expects the wrong verdict: without --check the run
 * exits 0 and spells out the difference; with --check it exits 1; --json says matchesExpected false.
 */
import fs from 'node:fs';
import { envFor, lab, labCopy, tempHome } from '../helpers/cli.js';
import { assertGone, cannotRunHere, testUnless } from '../helpers/e2e.js';

testUnless(cannotRunHere(), 'a decided verdict that differs from its expectation fails only with --check', async (t) => {
  const home = tempHome();
  const env = envFor(home);
  const file = labCopy('moby-15127', 'wrong-expect', home);
  const text = fs.readFileSync(file, 'utf8');
  const tcp = text.indexOf('  tcp:\n');
  const wrong = text.slice(0, tcp) + text.slice(tcp).replace('verdict: NOT_REPRODUCED', 'verdict: REPRODUCED');
  t.not(wrong, text);
  fs.writeFileSync(file, wrong);
  t.teardown(async () => {
    await lab(['down', file, '--instance', 'e2e-check'], env);
  });
  const args = ['run', file, '--instance', 'e2e-check', '--variant', 'tcp'];

  const plain = await lab(args, env);
  t.is(plain.code, 0, `without --check the exit code is as before: ${plain.stderr.slice(-500)}`);
  t.regex(plain.stdout, /^tcp\s+NOT_REPRODUCED\s+DIFFERS: REPRODUCED\s/m);
  t.regex(plain.stdout, /^tcp: DIFFERS from expected REPRODUCED on \*: Not kernel-dependent/m);

  const checked = await lab([...args, '--check', '--json'], env);
  t.is(checked.code, 1, 'with --check a difference fails the run');
  type Variant = { name: string; verdict: string; expected: { verdict: string; kernel: string } | null; matchesExpected: boolean | null };
  const json = JSON.parse(checked.stdout) as { variants: Variant[] };
  t.deepEqual(
    json.variants.map((v) => [v.name, v.verdict, v.expected?.verdict, v.expected?.kernel, v.matchesExpected]),
    [['tcp', 'NOT_REPRODUCED', 'REPRODUCED', '*', false]],
  );

  const right = await lab(['run', 'moby-15127', '--instance', 'e2e-check', '--variant', 'tcp', '--check'], env);
  t.is(right.code, 0, `the same variant against the real lab file passes --check: ${right.stderr.slice(-500)}`);
  t.regex(right.stdout, /^tcp\s+NOT_REPRODUCED\s+NOT_REPRODUCED\s/m);
  await assertGone(t, 'wrong-expect', 'e2e-check');
  await assertGone(t, 'moby-15127', 'e2e-check');
});
