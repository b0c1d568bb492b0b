/**
 * docker-1090 on real VMs booted by Vagrant (vagrant-libvirt under QEMU software emulation): a box
 * built from Debian's archive, a client VM with Debian's Docker engine and the container, a router VM
 * and a server VM, packets crossing the router. Its verdicts are compared with the netns provider's
 * on the same lab, and the machine's root network namespace must be left as it was.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { envFor, lab, labSpawn, root, sh, tempHome } from '../helpers/cli.js';
import { rootSnapshot } from '../helpers/host.js';

const home = tempHome();
const env = envFor(home);
const minutes = (n: number) => n * 60_000;

interface RunJson {
  provider: string;
  kernel: string;
  resultsDir: string;
  variants: Array<{
    name: string;
    verdict: string;
    reason: string;
    matchesExpected: boolean | null;
    expected: { verdict: string; kernel: string } | null;
    evidence: {
      rstAtServer: { fromAgent: number | null; fromPcap: number | null };
      server: { ok: true; value: { established: boolean } } | { ok: false; problem: string };
      client: { ok: true; value: { outcome: string | null } } | { ok: false; problem: string };
      pcaps: Array<{ file: string; captured: number | null }>;
      clientHostPath: { forgedSeenOnUplink: boolean } | null;
    };
  }>;
}

async function script(name: string, args: string[]): Promise<void> {
  const started = Date.now();
  await sh(path.join(root, 'scripts', name), args);
  console.log(`${name} ${args.join(' ')}: ${Math.round((Date.now() - started) / 1000)} s`);
}

async function libvirtNames(kind: 'list' | 'net-list', instance = 'vm'): Promise<string[]> {
  return (await sh('virsh', ['-q', '-c', 'qemu:///system', kind, '--all', '--name']))
    .split('\n')
    .map((l) => l.trim())
    .filter((n) => n.startsWith(`lab-docker-1090_${instance}.`));
}

let startedLibvirt = false;

test.after.always(async () => {
  for (const instance of ['vm', 'vmint', 'vmleft']) await lab(['down', 'docker-1090', '--instance', instance], env, minutes(10));
  // libvirt in its namespace is left as the test found it.
  if (startedLibvirt) await script('libvirt-netns.sh', ['stop']);
});

test.serial('docker-1090 on Vagrant VMs: same verdicts as on netns, nothing left behind', async (t) => {
  t.timeout(minutes(45));
  const before = await rootSnapshot();
  startedLibvirt = !(await sh(path.join(root, 'scripts', 'libvirt-netns.sh'), ['status']).then(
    () => true,
    () => false,
  ));
  await script('libvirt-netns.sh', ['start']);
  await script('build-box.sh', []);
  // A run cut off earlier (on this kernel, with another LAB_HOME) may have left VMs with this test's names.
  for (const instance of ['vm', 'vmint', 'vmleft']) await lab(['down', 'docker-1090', '--instance', instance], env, minutes(10));

  const started = Date.now();
  const up = await lab(['up', 'docker-1090', '--instance', 'vm', '--provider', 'vagrant'], env, minutes(30));
  t.log(`lab up --provider vagrant: ${Math.round((Date.now() - started) / 1000)} s`);
  t.is(up.code, 0, up.stderr.split('\n').slice(-30).join('\n'));
  if (up.code !== 0) return;
  // lab ssh logs in as `vagrant ssh` does (the box's user, not root); the remote command's output and status come back.
  const login = await lab(
    ['ssh', 'docker-1090', '--instance', 'vm', 'client', '--', 'echo "user=$(id -un) addr=$(ip -4 -o addr | grep -o 10.10.1.2/24)"; exit 3'],
    env,
    minutes(2),
  );
  t.is(login.code, 3, login.stderr);
  t.is(login.stdout, 'user=vagrant addr=10.10.1.2/24\n');

  t.deepEqual((await libvirtNames('list')).sort(), ['lab-docker-1090_vm.client', 'lab-docker-1090_vm.router', 'lab-docker-1090_vm.server']);
  t.deepEqual((await libvirtNames('net-list')).sort(), ['lab-docker-1090_vm.l0', 'lab-docker-1090_vm.l1', 'lab-docker-1090_vm.mgmt']);
  const status = (await lab(['status'], env, minutes(2))).stdout;
  t.regex(status, /docker-1090\+vm\s+up\s+vagrant/);
  t.regex(status, /client running, router running, server running/);
  // The container is a real Docker container on the client VM's docker0, behind Docker's own rules.
  const app = await lab(['exec', 'docker-1090', '--instance', 'vm', 'app', '--', 'ip', '-4', '-o', 'addr', 'show', 'eth0'], env, minutes(2));
  t.regex(app.stdout, /inet 172\.17\.0\.2\/16/);
  const nat = await lab(['exec', 'docker-1090', '--instance', 'vm', 'client', '--', 'iptables', '-t', 'nat', '-S', 'POSTROUTING'], env, minutes(2));
  t.regex(nat.stdout, /-A POSTROUTING -s 172\.17\.0\.0\/16 ! -o docker0 -j MASQUERADE/);
  // Packets cross the router: the server sees the client VM's address, one hop away.
  const trace = await lab(['exec', 'docker-1090', '--instance', 'vm', 'server', '--', 'ip', 'route', 'get', '10.10.1.2'], env, minutes(2));
  t.regex(trace.stdout, /via 10\.10\.2\.1/);

  const runStarted = Date.now();
  // The four variants of the report (the triggers added since run on netns and other kernels): VMs under TCG are slow.
  const names = ['baseline', 'drop-invalid', 'be-liberal', 'no-nat'];
  const only = names.flatMap((n) => ['--variant', n]);
  const vmRun = await lab(['run', 'docker-1090', '--instance', 'vm', '--json', ...only], env, minutes(20));
  t.log(`lab run on VMs: ${Math.round((Date.now() - runStarted) / 1000)} s`);
  const vms = JSON.parse(vmRun.stdout) as RunJson;
  const ns = JSON.parse((await lab(['run', 'docker-1090', '--instance', 'vmcmp', '--json', ...only], env, minutes(5))).stdout) as RunJson;
  t.is(vms.provider, 'vagrant');
  t.is(ns.provider, 'netns');
  t.not(vms.kernel, '');

  t.deepEqual(
    vms.variants.map((v) => v.name),
    names,
  );
  t.deepEqual(
    ns.variants.map((v) => v.name),
    names,
  );
  for (const v of vms.variants) {
    // The captures were taken on the VMs' own devices (eth1...), found by the lab's addresses: a wrong one would see nothing.
    for (const p of v.evidence.pcaps) t.true((p.captured ?? 0) > 0, `${v.name}: ${p.file} captured packets`);
    t.true(v.evidence.clientHostPath?.forgedSeenOnUplink, `${v.name}: the forged segment was seen on the client VM's uplink`);
    const other = ns.variants.find((x) => x.name === v.name)!;
    t.log(`${v.name}: vagrant (kernel ${vms.kernel}) ${v.verdict}; netns (kernel ${ns.kernel}) ${other.verdict}\n  ${v.reason}`);
    t.not(v.verdict, 'INCONCLUSIVE', `${v.name}: ${v.reason}`);
    t.is(v.matchesExpected, true, `${v.name}: ${v.verdict} is not what the lab file expects on ${vms.kernel} (${v.expected?.verdict})`);
    t.true(v.evidence.server.ok && v.evidence.server.value.established, `${v.name}: the connection crossed the router`);
    const resets = (v.evidence.rstAtServer.fromAgent ?? 0) + (v.evidence.rstAtServer.fromPcap ?? 0);
    const outcome = v.evidence.client.ok ? v.evidence.client.value.outcome : null;
    if (v.verdict === 'REPRODUCED') {
      const stalled = outcome !== 'intact' && /stall, not reset/.test(v.reason);
      t.true((v.evidence.rstAtServer.fromPcap ?? 0) > 0 || stalled, `${v.name}: REPRODUCED needs the RST in the capture, or a stalled client`);
    }
    if (v.verdict === 'NOT_REPRODUCED') t.is(resets, 0, `${v.name}: NOT_REPRODUCED needs no RST`);
    t.true(fs.existsSync(path.join(vms.resultsDir, v.name, 'agents', 'server.jsonl')));
  }
  // Where the mechanism is certain, both providers must agree; the baseline may differ between kernels.
  for (const name of ['drop-invalid', 'be-liberal', 'no-nat']) {
    t.is(vms.variants.find((v) => v.name === name)?.verdict, ns.variants.find((v) => v.name === name)?.verdict, name);
  }
  const matrix = await lab(['matrix', vms.resultsDir, ns.resultsDir], env);
  t.log(matrix.stdout);

  const downStarted = Date.now();
  const down = await lab(['down', 'docker-1090', '--instance', 'vm'], env, minutes(10));
  t.log(`lab down: ${Math.round((Date.now() - downStarted) / 1000)} s`);
  t.is(down.code, 0, down.stderr);
  t.deepEqual(await libvirtNames('list'), [], 'no VM of the lab is left');
  t.deepEqual(await libvirtNames('net-list'), [], 'no libvirt network of the lab is left');
  t.false(fs.existsSync(path.join(home, 'home', 'state', 'docker-1090+vm.json')));
  t.is(await rootSnapshot(), before, "the root network namespace is as it was: libvirt's bridges and rules live in its own namespace");
});

test.serial('Ctrl-C while the VMs boot: lab up destroys what it started and exits 130', async (t) => {
  t.timeout(minutes(10));
  const up = labSpawn(['up', 'docker-1090', '--instance', 'vmint', '--provider', 'vagrant'], env);
  let stderr = '';
  up.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + minutes(5);
  while ((await libvirtNames('list', 'vmint')).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2000));
  t.is((await libvirtNames('list', 'vmint')).length, 3, 'the VMs were being created');
  up.kill('SIGINT');
  const code = await new Promise<number | null>((r) => up.once('exit', r));
  t.is(code, 130, stderr.split('\n').slice(-10).join('\n'));
  t.deepEqual(await libvirtNames('list', 'vmint'), []);
  t.deepEqual(await libvirtNames('net-list', 'vmint'), []);
  t.false(fs.existsSync(path.join(home, 'home', 'state', 'docker-1090+vmint.json')));
  t.false(fs.existsSync(path.join(home, 'home', 'work', 'docker-1090+vmint')));
});

test.serial("libvirt leftovers with the lab's names: lab up refuses to build over them, lab down without a state removes them", async (t) => {
  // A defined, never started network is all a crashed run needs to leave for vagrant-libvirt to trip over.
  const xml = path.join(home, 'left.xml');
  fs.writeFileSync(xml, '<network><name>lab-docker-1090_vmleft.l0</name></network>');
  await sh('virsh', ['-q', '-c', 'qemu:///system', 'net-define', xml]);
  const up = await lab(['up', 'docker-1090', '--instance', 'vmleft', '--provider', 'vagrant'], env, minutes(5));
  t.is(up.code, 1, up.stderr);
  t.regex(up.stderr, /libvirt already has lab-docker-1090_vmleft\.l0, left by an earlier run/);
  t.regex(up.stderr, /lab down docker-1090 --instance vmleft/);
  t.deepEqual(await libvirtNames('net-list', 'vmleft'), ['lab-docker-1090_vmleft.l0'], 'the refusal touched nothing');
  const down = await lab(['down', 'docker-1090', '--instance', 'vmleft'], env, minutes(5));
  t.is(down.code, 0, down.stderr);
  t.regex(down.stdout, /removed 1 resources of docker-1090\+vmleft/);
  t.deepEqual(await libvirtNames('net-list', 'vmleft'), []);
});
