/**
 * docker-1090 on Debian's 5.10 kernel for real: fetched from the archive into the test's own cache,
 * booted under QEMU (TCG), the lab run inside the guest from the host. Verdicts and evidence must be
 * there, the guest gone afterwards and the root namespace unchanged. Without QEMU or the archive the
 * test is skipped with the reason, except under CI=true, where that is a failure.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { envFor, lab, sh, tempHome } from '../helpers/cli.js';
import { processesMatching, rootSnapshot } from '../helpers/host.js';

const home = tempHome('lab-kernel-');
const env: NodeJS.ProcessEnv = { ...envFor(home), LAB_KERNEL_CACHE: path.join(home, 'kernels') };

async function missing(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'booting a kernel under QEMU needs root';
  for (const tool of ['qemu-system-x86_64', 'busybox', 'depmod', 'apt-get']) {
    if (!(await sh('sh', ['-c', `command -v ${tool} || true`])).trim()) return `${tool} is not installed (scripts/setup.sh installs it)`;
  }
  const fetched = await lab(['kernels', '--fetch', '5.10'], env, 600_000);
  if (fetched.code !== 0) return `kernel 5.10 could not be fetched: ${fetched.stderr.trim().split('\n').slice(-3).join(' / ')}`;
  return undefined;
}

test.serial('lab run docker-1090 --kernel 5.10: verdicts and evidence from inside the guest, nothing left behind', async (t) => {
  t.timeout(1_500_000, 'fetch, boot and four variants under software emulation');
  const why = await missing();
  if (why) {
    if (process.env.CI === 'true') return t.fail(`CI must run the kernel test: ${why}`);
    t.log(`skipped: ${why}`);
    return t.pass();
  }
  const before = await rootSnapshot();
  const result = await lab(['run', 'docker-1090', '--kernel', '5.10', '--instance', 'kt', '--json'], env, 1_200_000);
  t.log(result.stderr.split('\n').slice(-4).join('\n'));
  const json = JSON.parse(result.stdout) as { kernel: string; resultsDir: string; variants: Array<{ name: string; verdict: string; reason: string }> };
  t.regex(json.kernel, /^5\.10\./, 'uname -r inside the guest');
  t.deepEqual(json.variants.map((v) => v.name).slice(0, 4), ['baseline', 'drop-invalid', 'be-liberal', 'no-nat']);
  for (const v of json.variants) {
    t.log(`${v.name}: ${v.verdict}: ${v.reason}`);
    t.true(['REPRODUCED', 'NOT_REPRODUCED', 'INCONCLUSIVE'].includes(v.verdict));
    t.truthy(v.reason);
  }
  const baseline = path.join(json.resultsDir, 'baseline');
  t.true(fs.existsSync(path.join(baseline, 'evidence.json')));
  t.true(
    fs.readdirSync(path.join(baseline, 'pcap')).some((f) => f.endsWith('.pcap') && fs.statSync(path.join(baseline, 'pcap', f)).size > 24),
    'a capture with packets',
  );
  t.true(fs.readdirSync(path.join(baseline, 'agents')).some((f) => f.endsWith('.jsonl')));
  t.deepEqual(await processesMatching(home), [], 'no QEMU or anything else of the test is left running');
  t.false(fs.existsSync(path.join(env.LAB_HOME!, 'state', 'docker-1090+kt@5-10.json')), 'the state is gone');
  t.is(await rootSnapshot(), before, 'the root namespace is unchanged');
});

test.after.always(async () => {
  await lab(['down', 'docker-1090', '--instance', 'kt', '--kernel', '5.10'], env);
});
