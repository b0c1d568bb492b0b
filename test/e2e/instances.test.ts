/** Several labs and instances side by side: isolated names, own verdicts, and down removes exactly one. */
import { envFor, lab, tempHome } from '../helpers/cli.js';
import { namespacesWithPrefix, rootSnapshot } from '../helpers/host.js';
import { cannotRunHere, testUnless } from '../helpers/e2e.js';

testUnless(cannotRunHere(), 'two docker-1090 instances and one moby-15127 up at once, each with its own verdicts', async (t) => {
  const env = envFor(tempHome());
  const before = await rootSnapshot();
  t.teardown(async () => {
    await lab(['down', '--all'], env);
  });
  for (const args of [
    ['docker-1090', '--instance', 't6a'],
    ['docker-1090', '--instance', 't6b'],
    ['moby-15127', '--instance', 't6m'],
  ]) {
    const up = await lab(['up', ...args], env);
    t.is(up.code, 0, up.stderr);
  }
  const status = (await lab(['status'], env)).stdout;
  for (const id of ['docker-1090+t6a', 'docker-1090+t6b', 'moby-15127+t6m']) t.regex(status, new RegExp(`${id.replace('+', '\\+')}\\s+up`));
  const runs = await Promise.all([
    lab(['run', 'docker-1090', '--instance', 't6a', '--variant', 'baseline', '--variant', 'be-liberal', '--json'], env),
    lab(['run', 'docker-1090', '--instance', 't6b', '--variant', 'no-nat', '--json'], env),
    lab(['run', 'moby-15127', '--instance', 't6m', '--variant', 'recvfrom-any', '--variant', 'pktinfo', '--json'], env),
  ]);
  // Each instance's own verdicts, decided and not differing from the lab file's expectation (the labs' own tests pin them).
  for (const r of runs) {
    t.is(r.code, 0, r.stderr.slice(-500));
    for (const v of (JSON.parse(r.stdout) as { variants: Array<{ name: string; verdict: string; reason: string; matchesExpected: boolean | null }> })
      .variants) {
      t.not(v.verdict, 'INCONCLUSIVE', `${v.name}: ${v.reason}`);
      t.not(v.matchesExpected, false, `${v.name}: ${v.verdict} differs from its expectation`);
    }
  }

  t.is((await lab(['down', 'docker-1090', '--instance', 't6a'], env)).code, 0);
  t.deepEqual(await namespacesWithPrefix('lab.docker-1090+t6a.'), []);
  t.is((await namespacesWithPrefix('lab.docker-1090+t6b.')).length, 4, 'the other instance is untouched');
  t.is((await namespacesWithPrefix('lab.moby-15127+t6m.')).length, 3);
  const all = await lab(['down', '--all'], env);
  t.is(all.code, 0, all.stderr);
  // Exactly this test's instances: another lab on the same kernel (a second checkout's tests) is not ours to judge.
  const ours = await Promise.all(['lab.docker-1090+t6a.', 'lab.docker-1090+t6b.', 'lab.moby-15127+t6m.'].map(namespacesWithPrefix));
  t.deepEqual(ours.flat(), []);
  t.is(await rootSnapshot(), before);
});
