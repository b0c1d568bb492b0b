/** The declared `container` step: its shape, the docker host and container it names, and a replacement's new address. */
import test from 'ava';
import { parseDeclared, type DeclaredTopology } from '../../src/lab/declared/parse.js';
import { publishedRules } from '../../src/providers/netns/container-lifecycle.js';
import type { ResolvedNode } from '../../src/lab/model.js';

const topo: DeclaredTopology = {
  nodes: ['client', 'dhost', 'app', 'db'],
  linked: [['client', 'dhost']],
  addresses: { client: '10.0.1.2', dhost: '10.0.1.1', app: '172.17.0.2', db: '172.17.0.3' },
  docker: { dhost: { containers: ['app', 'db'], subnet: '172.17.0.0/16', taken: ['172.17.0.1', '172.17.0.2', '172.17.0.3'] } },
};
const verdict = {
  reproduced: [{ agent: { name: 'sink', counter: 'received' }, equals: 0 }],
  notReproduced: {
    when: [{ agent: { name: 'sink', counter: 'received' }, atLeast: 1 }],
    healthy: [{ agent: { name: 'sink', counter: 'received' }, atLeast: 1 }],
  },
};

function problems(container: unknown, more: unknown[] = []): string[] {
  const steps = [{ agent: { name: 'sink', node: 'app', run: 'udp-sink', args: { port: 8125 } } }, { container }, ...more];
  return parseDeclared({ params: {}, steps, verdict }, {}, topo).problems.map((p) => `${p.path.join('.')}: ${p.message}`);
}

test('a replacement with a free address in the bridge subnet is a step', (t) => {
  t.deepEqual(problems({ node: 'dhost', name: 'app', do: 'replace', with: { name: 'app-v2', address: '172.17.0.9' } }), []);
  t.deepEqual(problems({ node: 'dhost', name: 'app', do: 'restart' }), []);
});

test('the node must be a docker host and the container one of its own', (t) => {
  t.deepEqual(problems({ node: 'client', name: 'app', do: 'stop' }), [
    'scenario.steps.1.container.node: found "client", expected a docker host of this lab: dhost',
  ]);
  t.deepEqual(problems({ node: 'dhost', name: 'web', do: 'stop' }), ['scenario.steps.1.container.name: found "web", expected a container of dhost: app, db']);
  t.deepEqual(problems({ node: 'nowhere', name: 'app', do: 'stop' }), [
    'scenario.steps.1.container.node: found "nowhere", expected a node or container of this lab: client, dhost, app, db',
  ]);
});

test('with is for replace only, and do is one of the four actions', (t) => {
  const withStop = problems({ node: 'dhost', name: 'app', do: 'stop', with: { address: '172.17.0.9' } });
  t.is(withStop.length, 1);
  t.regex(withStop[0]!, /^scenario\.steps\.1\.container: .*with \(a new name or address\) only for do: replace/);
  const pause = problems({ node: 'dhost', name: 'app', do: 'pause' });
  t.is(pause.length, 1);
  t.regex(pause[0]!, /^scenario\.steps\.1\.container\.do: .*stop.*start.*restart.*replace/);
  t.regex(problems({ node: 'dhost', name: 'app', do: 'replace', with: { port: 1 } })[0]!, /unknown key|port/);
});

test('a new address must be a host address of the bridge subnet and not in use, also by an earlier replacement', (t) => {
  const at = 'scenario.steps.1.container.with.address';
  t.deepEqual(problems({ node: 'dhost', name: 'app', do: 'replace', with: { address: '10.0.1.9' } }), [
    `${at}: found 10.0.1.9, expected a host address inside dhost's bridge subnet 172.17.0.0/16`,
  ]);
  t.deepEqual(problems({ node: 'dhost', name: 'app', do: 'replace', with: { address: '172.17.255.255' } }), [
    `${at}: found 172.17.255.255, expected a host address inside dhost's bridge subnet 172.17.0.0/16`,
  ]);
  t.deepEqual(problems({ node: 'dhost', name: 'app', do: 'replace', with: { address: '172.17.0.3' } }), [
    `${at}: found 172.17.0.3, which is already in use on dhost's bridge (172.17.0.1, 172.17.0.2, 172.17.0.3)`,
  ]);
  const twice = problems({ node: 'dhost', name: 'app', do: 'replace', with: { address: '172.17.0.9' } }, [
    { container: { node: 'dhost', name: 'db', do: 'replace', with: { address: '172.17.0.9' } } },
  ]);
  t.deepEqual(twice, [
    "scenario.steps.2.container.with.address: found 172.17.0.9, which is already in use on dhost's bridge (172.17.0.1, 172.17.0.2, 172.17.0.3, 172.17.0.9)",
  ]);
});

test("the imitation's rules of a published port are the template's text, with or without the userland proxy", (t) => {
  const host = (userlandProxy: boolean) =>
    ({ docker: { bridge: 'docker0', subnet: '172.17.0.0/16', gateway: '172.17.0.1', prefix: 16, userlandProxy, publish: [] } }) as unknown as ResolvedNode;
  const port = { container: 'app', containerIp: '172.17.0.2', containerPort: 80, hostIp: '0.0.0.0', hostPort: 8080, proto: 'udp' as const };
  const text = (proxy: boolean) => publishedRules(host(proxy), port, '172.17.0.5').map(([table, chain, rule]) => `${table} -A ${chain} ${rule.join(' ')}`);
  t.deepEqual(text(true), [
    'nat -A POSTROUTING -s 172.17.0.5/32 -d 172.17.0.5/32 -p udp -m udp --dport 80 -j MASQUERADE',
    'nat -A DOCKER ! -i docker0 -p udp -m udp --dport 8080 -j DNAT --to-destination 172.17.0.5:80',
    'filter -A DOCKER -d 172.17.0.5/32 ! -i docker0 -o docker0 -p udp -m udp --dport 80 -j ACCEPT',
  ]);
  t.is(text(false)[1], 'nat -A DOCKER -p udp -m udp --dport 8080 -j DNAT --to-destination 172.17.0.5:80');
});
