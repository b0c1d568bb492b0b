/** Files from strangers: huge, binary or bomb-shaped YAML, exercises and inventories, corrupt state. Each is one clear error. */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { envFor, lab, labCopy, root, tempHome } from '../helpers/cli.js';
import { loadLab } from '../../src/lab/load.js';
import { LabError } from '../../src/errors.js';
import { loadExercise } from '../../src/exercises/exercise.js';
import { loadInventory } from '../../src/providers/ssh/inventory.js';
import { readState } from '../../src/state.js';
import { bridgeSysctlsPerNetns, isPerNetns, sysctlRefusal } from '../../src/lab/sysctl-policy.js';

const hostSysctl = path.join(root, 'test', 'fixtures', 'invalid', 'host-sysctl.yaml');

function labError(t: import('ava').ExecutionContext, fn: () => unknown): LabError {
  const error = t.throws(fn);
  t.true(error instanceof LabError, `a LabError, got ${String(error)}`);
  return error as LabError;
}

test('per-namespace sysctls are told apart from host-wide ones', (t) => {
  const perNetns = [
    'net.ipv4.ip_forward',
    'net.ipv4.conf.eth0.rp_filter',
    'net.ipv6.conf.all.forwarding',
    'net.netfilter.nf_conntrack_tcp_be_liberal',
    'net.core.somaxconn',
    'net.bridge.bridge-nf-call-iptables',
  ];
  for (const key of perNetns) {
    t.true(isPerNetns(key), key);
  }
  const global = ['kernel.panic', 'vm.drop_caches', 'net.core.rmem_max', 'net.ipv4.tcp_mem', 'net.netfilter.nf_conntrack_max', 'net.bridge.no_such_key'];
  for (const key of [...global, 'net.ipv4.conf.eth0']) {
    t.false(isPerNetns(key), key);
  }
  t.regex(sysctlRefusal('kernel.panic', 'namespace')!, /global to the kernel.*whole machine/);
  t.is(sysctlRefusal('kernel.panic', 'any'), undefined);
  t.regex(sysctlRefusal('kernel.panic', 'net')!, /net\.\* sysctls only/);
  t.is(sysctlRefusal('net.core.rmem_max', 'net'), undefined);
});

test('net.bridge.bridge-nf-* are per namespace from Linux 5.3 on: the release of the machine decides', (t) => {
  t.is(bridgeSysctlsPerNetns('6.18.44-fc-v1300'), true);
  t.is(bridgeSysctlsPerNetns('5.3.0'), true);
  t.is(bridgeSysctlsPerNetns('5.2.21'), false);
  t.is(bridgeSysctlsPerNetns('4.19.0-27-amd64'), false);
  t.is(bridgeSysctlsPerNetns('unknown'), undefined);
  t.is(sysctlRefusal('net.bridge.bridge-nf-call-iptables', 'namespace', '5.10.0-32-amd64'), undefined);
  t.is(
    sysctlRefusal('net.bridge.bridge-nf-call-iptables', 'namespace', '4.19.0-27-amd64'),
    'net.bridge.bridge-nf-call-iptables is per network namespace only from Linux 5.3 (commit 22567590b2e6, "netfilter: bridge: namespace bridge netfilter sysctls"); this machine runs 4.19.0-27-amd64, where it exists in the root namespace only, so a lab\'s namespace cannot set it; use --provider vagrant',
  );
  t.is(sysctlRefusal('net.bridge.bridge-nf-call-iptables', 'any', '4.19.0-27-amd64'), undefined);
});

test('the provider decides: host-wide sysctls load for vagrant, not for netns or ssh', (t) => {
  t.is(loadLab(hostSysctl, undefined, { sysctls: 'any' }).name, 'docker-1090');
  const netns = labError(t, () => loadLab(hostSysctl, undefined, { sysctls: 'namespace' }));
  t.is(netns.details.length, 6);
  const ssh = labError(t, () => loadLab(hostSysctl, undefined, { sysctls: 'net' }));
  t.deepEqual(
    ssh.details.map((d) => /sysctls\.(\S+):/.exec(d)?.[1]),
    ['kernel.panic', 'vm.drop_caches'],
  );
});

test('lab validate --provider vagrant accepts what netns refuses', async (t) => {
  const vagrant = await lab(['validate', hostSysctl, '--provider', 'vagrant']);
  t.is(vagrant.code, 0, vagrant.stderr);
  t.regex(vagrant.stdout, /valid for provider vagrant/);
  const netns = await lab(['validate', hostSysctl]);
  t.is(netns.code, 2);
  t.regex(netns.stderr, /kernel\.panic is not a network setting/);
});

test('a file over the size limit is refused by name, exit 2, before it is parsed', async (t) => {
  const home = tempHome('lab-hostile-');
  const file = path.join(home, 'huge.yaml');
  fs.writeFileSync(file, `${fs.readFileSync(path.join(root, 'labs', 'docker-1090', 'lab.yaml'), 'utf8')}${'# padding\n'.repeat(120_000)}`);
  const result = await lab(['validate', file]);
  t.is(result.code, 2);
  t.regex(result.stderr, /^error: .*huge\.yaml is \d+ bytes, over the 1048576-byte limit/);
  t.notRegex(result.stderr, /internal error|\n\s+at /);
});

function labWithExercise(exercise: string): string {
  const home = tempHome('lab-hostile-');
  const file = labCopy('docker-1090', 'h-exercise', home);
  fs.writeFileSync(path.join(path.dirname(file), 'exercise.yaml'), exercise);
  return file;
}

test('exercise.yaml syntax errors are reported with their lines', (t) => {
  const lab = loadLab(labWithExercise('title: t\nintro: i\nsteps:\n  - id: one\n    goal: [unclosed\n  - id: two\n    goal: "also\n'));
  const error = labError(t, () => loadExercise(lab));
  t.regex(error.message, /exercise\.yaml is not valid YAML/);
  t.true(error.details.length >= 1);
  for (const d of error.details) t.regex(d, /exercise\.yaml:\d+:\d+: /);
});

test('exercise.yaml problems are all reported at once, each with file and line', (t) => {
  const check = '{ kind: command, node: client, argv: ["a;b"], match: x, because: y }';
  const lab = loadLab(labWithExercise(`title: t\nintro: i\ntypo: 1\nsteps:\n  - id: One\n    goal: g\n    check: ${check}\n`));
  const error = labError(t, () => loadExercise(lab));
  t.regex(error.message, /is not a valid exercise \(3 problems\)/);
  t.deepEqual(error.details.map((d) => /exercise\.yaml:(\d+):\d+ /.exec(d)?.[1]).sort(), ['3', '5', '7']);
});

test('an ssh inventory is parsed as strictly as a lab file', (t) => {
  const home = tempHome('lab-hostile-');
  const bad = path.join(home, 'hosts.yaml');
  const client = '{ address: "a b", user: ops, key: k, hostKey: insecure-accept-any, colour: red }';
  fs.writeFileSync(bad, `hosts:\n  client: ${client}\n  router: { address: 10.0.0.1, user: Root, key: k, hostKey: nope }\n`);
  const problems = labError(t, () => loadInventory(bad));
  t.regex(problems.message, /is not a valid inventory \(4 problems\)/);
  for (const d of problems.details) t.regex(d, /hosts\.yaml:[23]:\d+ hosts\./);
  fs.writeFileSync(bad, 'hosts:\n  client: { address: 10.0.0.1\n  router: [\n');
  const syntax = labError(t, () => loadInventory(bad));
  t.regex(syntax.message, /hosts\.yaml is not valid YAML/);
  t.regex(syntax.details[0]!, /hosts\.yaml:\d+:\d+: /);
  fs.writeFileSync(bad, Buffer.from([0x68, 0x6f, 0x73, 0x74, 0x73, 0x3a, 0x00]));
  t.regex(labError(t, () => loadInventory(bad)).message, /hosts\.yaml is binary/);
});

test('a corrupt state file is reported with its path and how to recover, never taken as no state', async (t) => {
  const home = tempHome('lab-hostile-');
  const env = envFor(home);
  const file = path.join(env.LAB_HOME!, 'state', 'docker-1090+h-corrupt.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, '{"lab": "docker-1090+h-corrupt", "provider": "net');
  const previous = process.env.LAB_HOME;
  process.env.LAB_HOME = env.LAB_HOME;
  try {
    const error = labError(t, () => readState('docker-1090+h-corrupt'));
    t.is(error.message, `the state file of lab docker-1090+h-corrupt is corrupt: ${file}`);
    t.regex(error.hint!, /mv .*\.json .*\.json\.corrupt.*lab down docker-1090 --instance h-corrupt/);
    t.is(readState('docker-1090+h-absent'), undefined);
  } finally {
    process.env.LAB_HOME = previous;
  }
  for (const args of [['up', 'docker-1090', '--instance', 'h-corrupt'], ['down', 'docker-1090', '--instance', 'h-corrupt'], ['status']]) {
    const result = await lab(args, env);
    t.is(result.code, 1, args.join(' '));
    t.regex(result.stderr, /the state file of lab docker-1090\+h-corrupt is corrupt/, args.join(' '));
  }
  t.true(fs.existsSync(file), 'the corrupt state is left for the user to look at');
});
