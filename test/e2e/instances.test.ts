/** Several labs and instances side by side: isolated names, own verdicts, and down removes exactly one. */
import test from 'ava';
import { envFor, lab, tempHome } from '../helpers/cli.js';
import { namespacesWithPrefix, rootSnapshot } from '../helpers/host.js';

test.serial('two docker-1090 instances and one moby-15127 up at once, each with its own verdicts', async (t) => {
  const env = envFor(tempHome());
  const before = await rootSnapshot();
  try {
    for (const args of [['docker-1090', '--instance', 't6a'], ['docker-1090', '--instance', 't6b'], ['moby-15127', '--instance', 't6m']]) {
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
    type V = { name: string; verdict: string; evidence: { rstAtServer?: { fromPcap: number } } };
    const verdicts = runs.map((r) => Object.fromEntries((JSON.parse(r.stdout) as { variants: Array<{ name: string; verdict: string; evidence: { rstAtServer?: { fromPcap: number } } }> }).variants.map((v) => [v.name, v]))) as Array<Record<string, V>>;
    t.is(verdicts[0]!['be-liberal']!.verdict, 'NOT_REPRODUCED');
    if (verdicts[0]!.baseline!.verdict === 'REPRODUCED') t.true(verdicts[0]!.baseline!.evidence.rstAtServer!.fromPcap > 0);
    t.is(verdicts[1]!['no-nat']!.verdict, 'NOT_REPRODUCED');
    t.is(verdicts[2]!.pktinfo!.verdict, 'NOT_REPRODUCED');
    t.not(verdicts[2]!['recvfrom-any']!.verdict, 'INCONCLUSIVE');

    t.is((await lab(['down', 'docker-1090', '--instance', 't6a'], env)).code, 0);
    t.deepEqual(await namespacesWithPrefix('lab.docker-1090+t6a.'), []);
    t.is((await namespacesWithPrefix('lab.docker-1090+t6b.')).length, 4, 'the other instance is untouched');
    t.is((await namespacesWithPrefix('lab.moby-15127+t6m.')).length, 3);
  } finally {
    const all = await lab(['down', '--all'], env);
    t.is(all.code, 0, all.stderr);
  }
  // Exactly this test's instances: another lab on the same kernel (a second checkout's tests) is not ours to judge.
  const ours = await Promise.all(['lab.docker-1090+t6a.', 'lab.docker-1090+t6b.', 'lab.moby-15127+t6m.'].map(namespacesWithPrefix));
  t.deepEqual(ours.flat(), []);
  t.is(await rootSnapshot(), before);
});
