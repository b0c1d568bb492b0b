import test from 'ava';
import { loadLab } from '../../src/lab/load.js';
import { planLab } from '../../src/providers/netns/plan.js';
import { applySteps } from '../../src/providers/netns/apply.js';
import { localRunner, type Runner } from '../../src/transport/runner.js';

test('a plan runs as one root batch, one batch per namespace, one sysctl batch, then the rest', async (t) => {
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
  const perNamespace = rest.filter((c) => c.argv[1] === '-n');
  t.deepEqual(perNamespace.map((c) => c.argv[2]).sort(), [...plan.namespaces].sort(), 'one ip -batch per namespace');
  const client = perNamespace.find((c) => c.argv[2] === 'lab.docker-1090+golden.client')!.input!.split('\n');
  t.true(client.indexOf('link add docker0 type bridge') < client.indexOf('link set vc-app master docker0'), 'plan order kept inside a namespace');
  const sysctl = rest.filter((c) => c.argv.join(' ') === 'ip -batch -');
  t.is(sysctl.length, 1);
  t.regex(sysctl[0]!.input!, /^netns exec lab\.docker-1090\+golden\.router sysctl -qw net\.ipv4\.ip_forward=1/m);
  t.true(rest.at(-1)!.argv.includes('iptables-restore'), 'firewall rules last');
  t.is(calls.length, 1 + plan.namespaces.length + 1 + rest.filter((c) => c.argv.includes('iptables-restore')).length);
});
