/**
 * The grouped execution of a plan on the real kernel: what it builds inside each namespace is what the
 * plan says (addresses, routes, bridges, sysctls, rules), and a failure names the namespace and the setting.
 */
import { execFileSync } from 'node:child_process';
import { LabError } from '../../src/errors.js';
import { loadLab } from '../../src/lab/load.js';
import { planLab } from '../../src/providers/netns/plan.js';
import { applyCommands, applySteps } from '../../src/providers/netns/apply.js';
import { removeNamespaces } from '../../src/providers/netns/namespaces.js';
import { cannotRunHere, testUnless } from '../helpers/e2e.js';

const inNs = (ns: string, ...argv: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8' });

testUnless(cannotRunHere(), 'docker-1090 applied for real: every namespace gets its addresses, routes, bridge, sysctls and rules', async (t) => {
  const lab = loadLab('docker-1090', 'apply-real');
  const plan = planLab(lab);
  const ns = (node: string) => plan.namespaces.find((n) => n.endsWith(`.${node}`))!;
  try {
    await applySteps(plan.steps);
    t.regex(inNs(ns('router'), 'sysctl', '-n', 'net.ipv4.ip_forward'), /^1$/m);
    t.regex(inNs(ns('server'), 'sysctl', '-n', 'net.ipv4.ip_forward'), /^0$/m, 'a node without the setting keeps the default');
    t.regex(inNs(ns('router'), 'ip', '-o', 'addr', 'show', 'dev', 'eth1'), /inet 10\.10\.2\.1\/24/);
    t.regex(inNs(ns('server'), 'ip', 'route'), /via 10\.10\.2\.1/);
    t.regex(inNs(ns('client'), 'ip', '-o', 'link', 'show', 'vc-app'), /master docker0 .*state UP/);
    t.regex(inNs(ns('app'), 'ip', '-o', 'addr', 'show', 'dev', 'eth0'), /inet 172\.17\.0\.2\/16/);
    t.regex(inNs(ns('client'), 'iptables', '-t', 'nat', '-S'), /MASQUERADE/);
  } finally {
    await removeNamespaces(plan.namespaces);
  }
});

testUnless(cannotRunHere(), 'a sysctl the kernel does not have fails the build and names the setting and the namespace', async (t) => {
  const ns = 'lab.apply-real-bad+t.n1';
  try {
    const error = await t.throwsAsync(
      applyCommands([
        { argv: ['ip', 'netns', 'add', ns] },
        { argv: ['ip', '-n', ns, 'link', 'set', 'lo', 'up'] },
        { argv: ['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.no_such_setting=1'] },
      ]),
    );
    t.regex(error!.message, /configuring the lab's namespaces failed/);
    t.regex((error as LabError).details.join('\n'), /net\.ipv4\.no_such_setting=1 in lab\.apply-real-bad\+t\.n1/);
    t.regex(inNs(ns, 'ip', '-o', 'link', 'show', 'lo'), /UP/, 'its ip batch ran before the sysctl');
  } finally {
    await removeNamespaces([ns]);
  }
});

testUnless(cannotRunHere(), 'a plain line that the kernel refuses names the namespace, the line and the reason', async (t) => {
  const ns = 'lab.apply-real-bad+t.n2';
  try {
    const error = await t.throwsAsync(
      applyCommands([
        { argv: ['ip', 'netns', 'add', ns] },
        { argv: ['ip', '-n', ns, 'link', 'set', 'lo', 'up'] },
        { argv: ['ip', '-n', ns, 'route', 'add', 'default', 'via', '10.1.2.3', 'dev', 'lo'] },
      ]),
    );
    t.regex((error as LabError).details.join('\n'), /lab\.apply-real-bad\+t\.n2: "route add default via 10\.1\.2\.3 dev lo": RTNETLINK answers: /);
  } finally {
    await removeNamespaces([ns]);
  }
});
