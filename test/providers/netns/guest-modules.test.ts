/**
 * A --kernel guest loads br_netfilter when the lab writes bridge filtering's sysctls (docker.bridgeNetfilter, on or off),
 * as dockerd would on its own machine; labs that do not write them leave the guest's modules as they are.
 */
import test from 'ava';
import path from 'node:path';
import { loadLab } from '../../../src/lab/load.js';
import { needsBridgeNetfilter, usesNetfilter } from '../../../src/providers/netns/kernel.js';
import { root } from '../../helpers/cli.js';

test('bridge filtering set (hairpin-published-port, on and off) loads br_netfilter in the guest; docker-1090 does not', (t) => {
  const hairpin = loadLab(path.join(root, 'labs', 'hairpin-published-port'));
  t.true(needsBridgeNetfilter(hairpin));
  for (const v of ['hairpin-proxy-on', 'hairpin-proxy-off'])
    t.true(needsBridgeNetfilter(loadLab(path.join(root, 'test', 'fixtures', 'hairpin', `${v}.yaml`))), v);
  t.false(needsBridgeNetfilter(loadLab(path.join(root, 'labs', 'docker-1090'))));
  t.false(needsBridgeNetfilter(loadLab(path.join(root, 'labs', 'large-download'))));
});

test("the qemu provider warms netfilter's tools only in the guests of nodes whose netfilter is in play", (t) => {
  const lab = loadLab(path.join(root, 'labs', 'docker-1090'));
  const warmed = lab.nodes.filter((n) => n.kind !== 'container' && usesNetfilter(n)).map((n) => n.name);
  t.deepEqual(warmed, ['client'], 'the Docker host, not the plain router and server');
  const desktop = loadLab(path.join(root, 'labs', 'docker-desktop-udp'));
  t.true(desktop.nodes.some((n) => n.profile === 'docker-desktop-host' && usesNetfilter(n)));
  const sysctl = { ...lab.nodes.find((n) => n.name === 'router')!, sysctls: { 'net.netfilter.nf_conntrack_max': '64' } };
  t.true(usesNetfilter(sysctl), 'a router whose conntrack table the lab sizes');
});
