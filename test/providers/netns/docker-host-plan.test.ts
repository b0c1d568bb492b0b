/**
 * The docker-host imitation's plan: userland proxy on and off give dockerd's two rule sets (moby v20.10.24 and
 * v26.1.5 libnetwork), and bridge filtering is written in the host's namespace as the lab says.
 */
import test from 'ava';
import path from 'node:path';
import { loadLab } from '../../../src/lab/load.js';
import type { ResolvedLab } from '../../../src/lab/model.js';
import { dockerHostRules, planLab, renderPlan } from '../../../src/providers/netns/plan.js';
import { root } from '../../helpers/cli.js';
import { matchesGolden } from '../../helpers/golden.js';

const fixture = (name: string) => path.join(root, 'test', 'fixtures', 'hairpin', `${name}.yaml`);
const hostOf = (lab: ResolvedLab) => lab.nodes.find((n) => n.name === 'host')!;
const commandLines = (lab: ResolvedLab) => renderPlan(planLab(lab)).split('\n');

for (const name of ['hairpin-proxy-on', 'hairpin-proxy-off']) {
  test(`${name}: netns plan matches golden`, (t) => {
    matchesGolden(t, path.join('golden', `${name}.netns-plan.txt`), renderPlan(planLab(loadLab(fixture(name)))));
  });
}

test('proxy on: the DNAT skips docker0 and a RETURN sends docker0 traffic to docker-proxy', (t) => {
  const rules = dockerHostRules(hostOf(loadLab(fixture('hairpin-proxy-on'))));
  t.regex(rules, /^-A DOCKER -i docker0 -j RETURN$/m);
  t.regex(rules, /^-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172\.17\.0\.2:80$/m);
  t.regex(rules, /^-A OUTPUT ! -d 127\.0\.0\.0\/8 -m addrtype --dst-type LOCAL -j DOCKER$/m);
  t.notRegex(rules, /--src-type LOCAL/);
  t.deepEqual(
    planLab(loadLab(fixture('hairpin-proxy-on'))).services.map((s) => s.name),
    ['docker-proxy tcp 0.0.0.0:8080 -> 172.17.0.2:80'],
  );
});

test('proxy off: hairpin mode, as dockerd installs it', (t) => {
  const lab = loadLab(fixture('hairpin-proxy-off'));
  const rules = dockerHostRules(hostOf(lab));
  const nat = rules.split('*filter')[0]!;
  t.notRegex(nat, /RETURN/, 'no RETURN in the nat table');
  t.notRegex(nat, /-i docker0/, 'nothing in nat matches the way in from docker0');
  t.regex(rules, /^-A DOCKER -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172\.17\.0\.2:80$/m);
  t.regex(rules, /^-A OUTPUT -m addrtype --dst-type LOCAL -j DOCKER$/m);
  t.regex(rules, /^-A POSTROUTING -o docker0 -m addrtype --src-type LOCAL -j MASQUERADE\n-A POSTROUTING -s 172\.17\.0\.0\/16 ! -o docker0 -j MASQUERADE$/m);
  t.regex(rules, /^-A POSTROUTING -s 172\.17\.0\.2\/32 -d 172\.17\.0\.2\/32 -p tcp -m tcp --dport 80 -j MASQUERADE$/m);
  t.regex(rules, /^-A DOCKER -d 172\.17\.0\.2\/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT$/m, 'the filter ACCEPT is the same in both modes');
  const lines = commandLines(lab);
  t.true(lines.includes('ip -n lab.hairpin-proxy-off.host link set vc-web type bridge_slave hairpin on'));
  t.true(lines.includes('ip -n lab.hairpin-proxy-off.host link set vc-peer type bridge_slave hairpin on'));
  t.true(lines.includes('ip netns exec lab.hairpin-proxy-off.host sysctl -qw net.ipv4.conf.docker0.route_localnet=1'));
  const services = planLab(lab).services;
  t.deepEqual(
    services.map((s) => s.name),
    ['port held by dockerd tcp 0.0.0.0:8080 (userland proxy off)'],
    'no docker-proxy; the port bound as dockerd binds it',
  );
  t.deepEqual(services[0]!.argv.slice(-3), ['tcp', '0.0.0.0', '8080']);
  t.true(lines.includes('ip netns exec lab.hairpin-proxy-off.host python3 templates/netns/port-holder.py tcp 0.0.0.0 8080 &'));
});

test('only the proxy setting differs between the two fixtures, and the proxy-on rules are the ones every lab had', (t) => {
  const on = dockerHostRules(hostOf(loadLab(fixture('hairpin-proxy-on'))));
  const docker1090 = loadLab('docker-1090');
  const client = docker1090.nodes.find((n) => n.name === 'client')!;
  t.true(client.docker!.userlandProxy);
  t.is(dockerHostRules({ ...client, docker: { ...client.docker!, publish: hostOf(loadLab(fixture('hairpin-proxy-on'))).docker!.publish } }), on);
});

test('bridge filtering is written in the Docker host namespace only, 1 by default, 0 when the lab says false', (t) => {
  const lab = loadLab(fixture('hairpin-proxy-off'));
  const key = 'net.bridge.bridge-nf-call-iptables';
  t.deepEqual(
    commandLines(lab).filter((l) => l.includes(key)),
    [`ip netns exec lab.hairpin-proxy-off.host sysctl -qw ${key}=1`],
  );
  const host = hostOf(lab);
  host.docker!.bridgeNetfilter = false;
  t.deepEqual(
    commandLines(lab).filter((l) => l.includes(key)),
    [`ip netns exec lab.hairpin-proxy-off.host sysctl -qw ${key}=0`],
  );
});

test('a real engine: bridge filtering is still written as the lab says (it is the machine’s), the bridge’s own sysctls are dockerd’s', (t) => {
  const lab = loadLab('hairpin-published-port');
  const off = lab.variants.find((v) => v.name === 'proxy-off-filter-off')!.topology!;
  const lines = renderPlan(planLab({ ...lab, ...off }, 'docker-proxy', new Set(['dhost']))).split('\n');
  t.true(lines.some((l) => l.endsWith('sysctl -qw net.bridge.bridge-nf-call-iptables=0')));
  t.false(
    lines.some((l) => l.includes('route_localnet')),
    'route_localnet is for dockerd to write',
  );
  const imitation = renderPlan(planLab({ ...lab, ...off })).split('\n');
  t.true(imitation.some((l) => l.endsWith('sysctl -qw net.ipv4.conf.docker0.route_localnet=1')));
});
