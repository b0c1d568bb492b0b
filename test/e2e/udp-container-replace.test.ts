/**
 * udp-container-replace for real: a `container` step replaces a container under a live UDP flow, every variant as the
 * lab file expects on this kernel (--check), on the imitation and, when its engine is cached, on a real Docker 26.1
 * (whose verdicts differ by design: Engine 23+ deletes the published port's conntrack entries, moby/moby#44742).
 * Nothing of the lab, of its replaced containers or of the engine outlives `lab down`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { cachedEngine } from '../../src/engines/cache.js';
import { envFor, lab, root, tempHome } from '../helpers/cli.js';
import { assertGone, cannotRunHere, runPinned, testUnless } from '../helpers/e2e.js';

const NAME = 'udp-container-replace';

testUnless(cannotRunHere(), `lab run ${NAME} --check: every variant as expected, the lab restored and gone after`, async (t) => {
  const { json } = await runPinned(t, NAME, 'e2e');
  for (const v of json.variants) t.not(v.verdict, 'INCONCLUSIVE', `${v.name}: ${v.reason}`);
  t.is(json.variants.find((v) => v.name === 'as-is')?.verdict, 'REPRODUCED');
  await assertGone(t, NAME, 'e2e');
});

const ENGINE = '26.1';
const noEngine = cannotRunHere() ?? (cachedEngine(ENGINE) ? undefined : `Docker ${ENGINE} is not cached (node bin/lab.cjs engines --fetch ${ENGINE})`);

testUnless(noEngine, `lab run ${NAME} --docker ${ENGINE}: the engine deletes the port's entries, the flow reaches the new container`, async (t) => {
  // A short home and instance: containerd's debug socket lies below the lab's work folder, and a unix socket path
  // longer than 104 characters stops it ("unix socket path too long"), which this lab's long name comes close to.
  const env = envFor(tempHome('l'));
  t.teardown(async () => void (await lab(['down', NAME, '--instance', 'e2'], env)));
  const result = await lab(['run', NAME, '--instance', 'e2', '--docker', ENGINE, '--json', '--check'], env);
  t.log(result.stderr.split('\n').slice(-6).join('\n'));
  const json = JSON.parse(result.stdout || 'null') as null | {
    engine?: string;
    variants: Array<{ name: string; verdict: string; reason: string; matchesExpected: boolean | null; expected: { docker?: string } | null }>;
  };
  if (!json) return void t.fail(`no JSON (exit ${result.code}): ${result.stderr.slice(-1500)}`);
  t.regex(json.engine ?? '', /Docker 26\.1/);
  for (const v of json.variants) {
    t.is(v.verdict, 'NOT_REPRODUCED', `${v.name}: ${v.reason}`);
    t.true(v.matchesExpected, `${v.name}: as the lab file expects on Docker ${ENGINE}`);
  }
  t.is(json.variants.find((v) => v.name === 'as-is')?.expected?.docker, '>=23');
  t.is(result.code, 0, result.stderr.slice(-1000));
  await assertGone(t, NAME, 'e2');
});

const CYCLE = path.join(root, 'test', 'fixtures', 'declarative', 'container-cycle');

for (const engine of ['emulated', ENGINE])
  testUnless(
    engine === 'emulated' ? cannotRunHere() : noEngine,
    `container steps stop, start and restart on ${engine}: rules gone, back, port works`,
    async (t) => {
      const env = envFor(tempHome('l'));
      const instance = engine === 'emulated' ? 'e3' : 'e4';
      t.teardown(async () => void (await lab(['down', 'container-cycle', '--instance', instance], env)));
      const result = await lab(['run', CYCLE, '--instance', instance, '--docker', engine, '--json', '--check'], env);
      t.is(result.code, 0, result.stderr.slice(-1500));
      const json = JSON.parse(result.stdout) as { resultsDir: string; variants: Array<{ name: string; verdict: string }> };
      t.is(json.variants[0]?.verdict, 'NOT_REPRODUCED');
      const rules = (name: string) =>
        fs
          .readFileSync(path.join(json.resultsDir, 'cycle', 'snapshots', `${name}.txt`), 'utf8')
          .split('\n')
          .filter((l) => /dport 8125/.test(l));
      t.deepEqual(rules('rules-stopped'), [], 'a stopped container has no published-port rules');
      t.is(rules('rules-restarted').length, 3, 'DNAT, MASQUERADE and ACCEPT are back after the restart');
      t.true(rules('rules-restarted').some((l) => l.includes('DNAT --to-destination 172.17.0.2:8125')));
      await assertGone(t, 'container-cycle', instance);
    },
  );
