/**
 * The labs whose verdicts turn on the 6.1 netfilter change, run for real on Debian's kernels under QEMU (TCG): every
 * variant of each, pinned to the lab file's expectation for that kernel with --check, and nothing left behind.
 * `npm test` (and CI) runs 5.10; `npm run test:kernels` runs 6.1 and 6.12 (LAB_TEST_KERNELS), with docker-1090 too.
 * Skipped with the reason where QEMU or the archive is missing, except under CI=true, where that is a failure.
 */
import test from 'ava';
import path from 'node:path';
import { envFor, lab, sh, tempHome } from '../helpers/cli.js';
import { processesMatching, rootSnapshot } from '../helpers/host.js';
import { testUnless, type RunJson } from '../helpers/e2e.js';
import { loadLab } from '../../src/lab/load.js';

const home = tempHome('lab-kernel-');
const env: NodeJS.ProcessEnv = { ...envFor(home), LAB_KERNEL_CACHE: path.join(home, 'kernels') };
const KERNELS = (process.env.LAB_TEST_KERNELS ?? '5.10').split(',');
// docker-1090 on 5.10 has its own test (docker-1090-on-5.10.test.ts), with checks of the guest's evidence.
const LABS = (process.env.LAB_TEST_LABS ?? 'taskcluster-reset,large-download').split(',');

async function missing(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'booting a kernel under QEMU needs root';
  for (const tool of ['qemu-system-x86_64', 'busybox', 'depmod', 'apt-get']) {
    if (!(await sh('sh', ['-c', `command -v ${tool} || true`])).trim()) return `${tool} is not installed (scripts/setup.sh installs it)`;
  }
  for (const kernel of KERNELS) {
    const fetched = await lab(['kernels', '--fetch', kernel], env, 600_000);
    if (fetched.code !== 0) return `kernel ${kernel} could not be fetched: ${fetched.stderr.trim().split('\n').slice(-3).join(' / ')}`;
  }
  return undefined;
}

const why = await missing();
for (const kernel of KERNELS)
  for (const name of LABS)
    testUnless(why, `lab run ${name} --kernel ${kernel} --check: every variant as expected on ${kernel}, nothing left behind`, async (t) => {
      t.timeout(1_200_000, 'boot and every variant under software emulation');
      const before = await rootSnapshot();
      const result = await lab(['run', name, '--kernel', kernel, '--instance', 'k5', '--json', '--check'], env, 1_100_000);
      t.log(result.stderr.split('\n').slice(-4).join('\n'));
      let json: RunJson;
      try {
        json = JSON.parse(result.stdout) as RunJson;
      } catch {
        return t.fail(`lab run printed no JSON (exit ${result.code}): ${result.stderr.slice(-2000)}`);
      }
      t.true(json.kernel.startsWith(`${kernel}.`), `uname -r inside the guest (${json.kernel})`);
      t.deepEqual(
        json.variants.map((v) => v.name),
        loadLab(name).variants.map((v) => v.name),
        'every variant ran',
      );
      for (const v of json.variants) {
        t.log(`${v.name}: ${v.verdict} (expected ${v.expected?.verdict ?? 'nothing'} on ${v.expected?.kernel ?? '-'}): ${v.reason}`);
        t.not(v.expected, null, `${v.name}: the lab file has no expectation for ${kernel}`);
        t.is(v.matchesExpected, true, `${v.name}: ${v.verdict} differs from the expectation for ${kernel}: ${v.reason}`);
      }
      t.is(result.code, 0, 'lab run --check exit code');
      t.deepEqual(await processesMatching(home), [], 'no QEMU or anything else of the test is left running');
      t.is(await rootSnapshot(), before, 'the root namespace is unchanged');
    });

test.after.always(async () => {
  for (const kernel of KERNELS) for (const name of LABS) await lab(['down', name, '--instance', 'k5', '--kernel', kernel], env);
});
