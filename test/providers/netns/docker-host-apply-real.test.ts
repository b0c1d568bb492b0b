/**
 * The hairpin-mode docker host applied for real: hairpin on each container's port, route_localnet on docker0, dockerd's
 * hairpin rules, and bridge filtering as the lab says, in the host's namespace only.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadLab } from '../../../src/lab/load.js';
import { planLab } from '../../../src/providers/netns/plan.js';
import { applySteps } from '../../../src/providers/netns/apply.js';
import { removeNamespaces } from '../../../src/providers/netns/namespaces.js';
import { root } from '../../helpers/cli.js';
import { cannotRunHere, testUnless } from '../../helpers/e2e.js';

const inNs = (ns: string, ...argv: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8' });
const BRIDGE_NF = '/proc/sys/net/bridge/bridge-nf-call-iptables';

testUnless(
  cannotRunHere() ?? (fs.existsSync(BRIDGE_NF) ? undefined : 'br_netfilter is not loaded on this machine'),
  'userland proxy off, bridge filtering off: what dockerd sets, and the root namespace untouched',
  async (t) => {
    const lab = loadLab(path.join(root, 'test', 'fixtures', 'hairpin', 'hairpin-proxy-off.yaml'), 'apply-hp');
    lab.nodes.find((n) => n.name === 'host')!.docker!.bridgeNetfilter = false;
    const plan = planLab(lab);
    const host = plan.namespaces.find((n) => n.endsWith('.host'))!;
    const rootBefore = fs.readFileSync(BRIDGE_NF, 'utf8');
    try {
      await applySteps(plan.steps);
      t.regex(execFileSync('bridge', ['-n', host, '-d', 'link', 'show', 'dev', 'vc-web'], { encoding: 'utf8' }), /hairpin on/);
      t.is(inNs(host, 'sysctl', '-n', 'net.ipv4.conf.docker0.route_localnet').trim(), '1');
      t.is(inNs(host, 'sysctl', '-n', 'net.bridge.bridge-nf-call-iptables').trim(), '0');
      const nat = inNs(host, 'iptables', '-t', 'nat', '-S');
      t.regex(nat, /^-A POSTROUTING -o docker0 -m addrtype --src-type LOCAL -j MASQUERADE$/m);
      t.regex(nat, /^-A DOCKER -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172\.17\.0\.2:80$/m);
      t.notRegex(nat, /-j RETURN/);
      t.is(fs.readFileSync(BRIDGE_NF, 'utf8'), rootBefore, 'the root namespace keeps its value');
    } finally {
      await removeNamespaces(plan.namespaces);
    }
  },
);
