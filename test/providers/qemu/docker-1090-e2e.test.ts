/**
 * docker-1090 on the qemu provider for real, kernels mixed: the client host (the NAT box) a guest of Debian's 5.10, the
 * router and the server guests of 6.1 (the provider's default), under QEMU (KVM where the probe boots one, TCG otherwise),
 * the container a namespace of its host's guest. Each node must be a machine of its own (its own boot id and kernel, a
 * kernel-wide knob writable), the verdicts those the lab file expects for the NAT box's 5.10, and `lab down`
 * must leave no QEMU, no state and the root namespace unchanged. Skipped with the reason without root, QEMU or the
 * kernel (fetched once into the machine's cache); under CI=true that is a failure.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { envFor, lab, labSpawn, sh, tempHome } from '../../helpers/cli.js';
import { processesMatching, rootSnapshot } from '../../helpers/host.js';
import { testUnless, type RunJson } from '../../helpers/e2e.js';

const home = tempHome('lab-qemu-');
const env = envFor(home);
const INSTANCE = 'vm2';
const ID = 'docker-1090+vm2@client-5-10';
const at = ['--instance', INSTANCE, '--kernel', 'client=5.10'];

async function missing(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'the qemu provider needs root';
  for (const tool of ['qemu-system-x86_64', 'busybox', 'depmod', 'apt-get']) {
    if (!(await sh('sh', ['-c', `command -v ${tool} || true`])).trim()) return `${tool} is not installed (scripts/setup.sh installs it)`;
  }
  const fetched = await lab(['kernels', '--fetch', '5.10,6.1'], env, 900_000);
  if (fetched.code !== 0) return `kernels 5.10 and 6.1 could not be fetched: ${fetched.stderr.trim().split('\n').slice(-3).join(' / ')}`;
  return undefined;
}

/** pgrep's pattern for the lab's QEMU processes (the path's + is a regex character). */
const qemuOf = (dir: string) => `qemu-system.*${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`;

const reason = await missing();

const exec = async (node: string, ...argv: string[]) => {
  const r = await lab(['exec', 'docker-1090', ...at, node, '--', ...argv], env, 120_000);
  return { code: r.code, out: r.stdout.trim(), err: r.stderr.trim() };
};

testUnless(
  reason,
  "docker-1090 on qemu, client on 5.10 and the rest on 6.1: a guest per node, the verdicts expected for the NAT box's kernel with --check, nothing left after down",
  async (t) => {
    t.timeout(900_000, 'three guests and every variant under software emulation');
    const before = await rootSnapshot();
    const guests = path.join(env.LAB_HOME!, 'work', ID, 'guests');

    const up = await lab(['up', 'docker-1090', '--provider', 'qemu', ...at], env, 600_000);
    t.is(up.code, 0, up.stderr.slice(-2000));
    t.is((await processesMatching(qemuOf(guests))).length, 3, 'one QEMU for client, router and server');

    const bootIds = new Map<string, string>();
    for (const node of ['client', 'router', 'server', 'app']) {
      const release = await exec(node, 'uname', '-r');
      const series = node === 'client' || node === 'app' ? /^5\.10\./ : /^6\.1\./;
      t.regex(release.out, series, `${node} runs ${String(series)} (${release.err})`);
      bootIds.set(node, (await exec(node, 'cat', '/proc/sys/kernel/random/boot_id')).out);
    }
    t.is(new Set([bootIds.get('client'), bootIds.get('router'), bootIds.get('server')]).size, 3, 'three kernels, one per node');
    t.is(bootIds.get('app'), bootIds.get('client'), "the container shares its docker host's kernel");
    // Read-only inside a network namespace other than the first: here it is the guest's own root namespace.
    const knob = await exec('client', 'sysctl', '-w', 'net.netfilter.nf_conntrack_max=12345');
    t.is(knob.code, 0, knob.err);
    t.is((await exec('client', 'cat', '/proc/sys/net/netfilter/nf_conntrack_max')).out, '12345');
    t.not((await exec('router', 'cat', '/proc/sys/net/netfilter/nf_conntrack_max')).out, '12345', "the router's kernel is another one");

    const run = await lab(['run', 'docker-1090', ...at, '--json', '--check'], env, 900_000);
    let json: RunJson;
    try {
      json = JSON.parse(run.stdout) as RunJson;
    } catch {
      return t.fail(`lab run printed no JSON (exit ${run.code}): ${run.stderr.slice(-2000)}`);
    }
    t.is(json.provider, 'qemu');
    const kernels = (json as RunJson & { nodeKernels?: Record<string, { kernel: string }> }).nodeKernels ?? {};
    t.deepEqual(
      Object.fromEntries(Object.entries(kernels).map(([node, k]) => [node, k.kernel.split('.').slice(0, 2).join('.')])),
      { client: '5.10', router: '6.1', server: '6.1' },
      "the run read each node's own kernel",
    );
    t.true(json.variants.length >= 8, 'every variant of the lab file');
    for (const v of json.variants) {
      t.log(`${v.name}: ${v.verdict} (expected ${v.expected?.verdict ?? 'nothing'}): ${v.reason.slice(0, 160)}`);
      t.is(v.matchesExpected, true, `${v.name}: ${v.verdict} differs from the expectation for a 5.10 NAT box: ${v.reason}`);
    }
    t.is(run.code, 0, 'lab run --check exit code');
    const baseline = path.join(json.resultsDir, 'baseline');
    t.true(
      fs.readdirSync(path.join(baseline, 'pcap')).some((f) => f.endsWith('.pcap') && fs.statSync(path.join(baseline, 'pcap', f)).size > 24),
      'a capture with packets, taken inside a guest',
    );

    const down = await lab(['down', 'docker-1090', ...at], env, 60_000);
    t.is(down.code, 0, down.stderr);
    t.deepEqual(await processesMatching(qemuOf(guests)), [], 'no QEMU of the lab is left');
    t.false(fs.existsSync(path.join(env.LAB_HOME!, 'work', ID)), 'the work folder is gone');
    t.false(fs.existsSync(path.join(env.LAB_HOME!, 'state', `${ID}.json`)), 'the state is gone');
    t.is(await rootSnapshot(), before, 'the root namespace is unchanged');
  },
);

testUnless(reason, 'SIGKILL of lab up once its guests run, then lab down: no QEMU, no folder, no state is left', async (t) => {
  t.timeout(300_000);
  const guests = path.join(env.LAB_HOME!, 'work', ID, 'guests');
  const stateFile = path.join(env.LAB_HOME!, 'state', `${ID}.json`);
  const child = labSpawn(['up', 'docker-1090', '--provider', 'qemu', ...at], env);
  const exited = new Promise((r) => child.once('exit', r));
  const recorded = () => {
    try {
      const guests = (JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { resources: { guests?: Array<{ pid?: number }> } }).resources.guests ?? [];
      return guests.filter((g) => g.pid !== undefined).length;
    } catch {
      return 0;
    }
  };
  const deadline = Date.now() + 120_000;
  while (recorded() < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGKILL');
  await exited;
  t.is(recorded(), 3, 'the state names every guest before it boots');
  t.is((await processesMatching(qemuOf(guests))).length, 3, 'the guests outlive the killed lab up');
  const down = await lab(['down', 'docker-1090', ...at], env, 60_000);
  t.is(down.code, 0, down.stderr);
  t.deepEqual(await processesMatching(qemuOf(guests)), []);
  t.false(fs.existsSync(path.join(env.LAB_HOME!, 'work', ID)));
  t.false(fs.existsSync(stateFile));
});

test.after.always(async () => {
  await lab(['down', 'docker-1090', ...at], env);
});
