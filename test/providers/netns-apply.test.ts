import test from 'ava';
import { loadLab } from '../../src/lab/load.js';
import { planLab } from '../../src/providers/netns/plan.js';
import { applySteps } from '../../src/providers/netns/apply.js';
import { localRunner, type Runner } from '../../src/transport/runner.js';

test('a plan runs as one root batch, one process that configures every namespace, then the rest', async (t) => {
  const lab = loadLab('docker-1090', 'golden');
  const plan = planLab(lab);
  const calls: Array<{ argv: string[]; input?: string }> = [];
  const recording: Runner = {
    ...localRunner,
    run: async (argv, options) => {
      calls.push({ argv: [...argv], input: options?.input });
      return { stdout: '', stderr: '', exitCode: 0 };
    },
  };
  await applySteps(plan.steps, recording);
  const [root, ...rest] = calls;
  t.deepEqual(root!.argv, ['ip', '-batch', '-']);
  const rootLines = root!.input!.trim().split('\n');
  t.deepEqual(
    rootLines.filter((l) => l.startsWith('netns add')),
    plan.namespaces.map((ns) => `netns add ${ns}`),
  );
  t.true(
    rootLines.includes(`link add vc-app netns lab.docker-1090+golden.client type veth peer name eth0 netns lab.docker-1090+golden.app`),
    rootLines.join('\n'),
  );
  t.is(
    rootLines.filter((l) => l.startsWith('link add') && l.includes(' type veth ')).length,
    lab.links.length + 1,
    'every veth pair, the container port included',
  );
  const [helper, ...after] = rest;
  t.deepEqual(helper!.argv.slice(0, 4), ['python3', '-I', '-S', '-c'], 'one process enters every namespace');
  const request = JSON.parse(helper!.input!) as { namespaces: Array<{ name: string; ip: string; sysctls: Array<[string, string]> }> };
  t.deepEqual(request.namespaces.map((n) => n.name).sort(), [...plan.namespaces].sort(), 'one ip batch per namespace');
  const client = request.namespaces.find((n) => n.name === 'lab.docker-1090+golden.client')!.ip.split('\n');
  t.true(client.indexOf('link add docker0 type bridge') < client.indexOf('link set vc-app master docker0'), 'plan order kept inside a namespace');
  const router = request.namespaces.find((n) => n.name === 'lab.docker-1090+golden.router')!;
  t.deepEqual(router.sysctls[0], ['net.ipv4.ip_forward', '1'], "a namespace's sysctls go with it, not through sysctl processes");
  t.false(after.some((c) => c.argv.includes('sysctl')));
  t.true(after.length > 0 && after.every((c) => c.argv.includes('iptables-restore') || c.argv.includes('tc')), 'firewall rules and qdiscs last');
  t.is(calls.length, 2 + after.length);
});
