/** Variant overrides (set:): the schema that takes them, the lab each makes, and what a report lists. */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { loadLab } from '../../src/lab/load.js';
import { overridesSchema } from '../../src/lab/schema.js';
import { copyOf } from '../../src/run/variant-copies.js';
import { lab, root } from '../helpers/cli.js';

const fixture = path.join(root, 'test', 'fixtures', 'overrides', 'settings.yaml');

test('the schema takes a node setting as the node does, and refuses what the node would', (t) => {
  const good = overridesSchema.safeParse({
    nodes: { client: { docker: { userlandProxy: false }, sysctls: { 'net.ipv4.ip_forward': 1 } } },
    links: { wan: { mtu: 1400 } },
  });
  t.true(good.success);
  t.deepEqual(
    good.data?.nodes?.client,
    { docker: { userlandProxy: false }, sysctls: { 'net.ipv4.ip_forward': '1' } },
    'sysctl values become strings, as on a node',
  );
  t.deepEqual(good.data?.nodes?.client && Object.keys(good.data.nodes.client), ['docker', 'sysctls'], 'no defaults filled in: only what is set');
  const bad = (value: unknown) => overridesSchema.safeParse(value).error?.issues.map((i) => `${i.path.join('.')}: ${i.code}`);
  t.deepEqual(bad({ nodes: { client: { docker: { userlandProxi: false } } } }), ['nodes.client.docker: unrecognized_keys']);
  t.deepEqual(bad({ nodes: { client: { docker: { userlandProxy: 'no' } } } }), ['nodes.client.docker.userlandProxy: invalid_type']);
  t.deepEqual(bad({ links: { wan: { mtu: 20 } } }), ['links.wan.mtu: too_small']);
  t.deepEqual(bad({ links: { wan: { endpoints: ['a', 'b'] } } }), ['links.wan: unrecognized_keys'], "a link's endpoints are not a setting");
  t.deepEqual(bad({ routers: {} }), [': unrecognized_keys']);
  t.deepEqual(bad({ nodes: { 'Bad Name': {} } }), ['nodes.Bad Name: invalid_key']);
});

test('the JSON schema shows set on variants and on axis values, with the docker settings inside', (t) => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON document walked by hand
  const props = (JSON.parse(fs.readFileSync(path.join(root, 'schema', 'lab.schema.json'), 'utf8')) as { properties: Record<string, any> }).properties;
  const set = props.variants.additionalProperties.properties.set;
  t.truthy(set.properties.nodes.additionalProperties.properties.docker.properties.userlandProxy);
  t.truthy(set.properties.links.additionalProperties.properties.mtu);
  t.truthy(props.combinations.items.properties.axes.additionalProperties.additionalProperties.properties.set);
  t.truthy(props.links.items.properties.name);
});

test('a variant that sets node and link settings carries the lab resolved with them; the lab itself is unchanged', (t) => {
  const lab = loadLab(fixture, 'ovr-unit');
  const [asWritten, narrow, rpf] = lab.variants;
  t.is(asWritten!.topology, undefined);
  t.is(asWritten!.overrides, undefined);

  const dhost = lab.nodes.find((n) => n.name === 'dhost')!;
  t.is(dhost.docker!.userlandProxy, true);
  t.is(dhost.interfaces[0]!.mtu, undefined);

  const own = narrow!.topology!;
  const ownHost = own.nodes.find((n) => n.name === 'dhost')!;
  t.is(ownHost.docker!.userlandProxy, false);
  t.deepEqual(
    ownHost.docker!.publish.map((p) => p.hostPort),
    [9090],
    'a list replaces the lab’s',
  );
  t.is(ownHost.docker!.subnet, '172.17.0.0/16', 'what the set leaves alone stays as the lab has it');
  t.deepEqual(
    own.nodes.flatMap((n) => n.interfaces.filter((i) => i.link === 0).map((i) => `${n.name} ${i.mtu}`)),
    ['dhost 1400', 'router 1400'],
  );
  t.deepEqual(narrow!.overrides, [
    'node dhost: docker.userlandProxy = false',
    'node dhost: docker.publish = [{"container":"web","hostPort":9090,"containerPort":80,"proto":"tcp","hostIp":"0.0.0.0"}]',
    'link wan: mtu = 1400',
  ]);

  t.is(rpf!.topology, undefined, 'sysctls alone are changed on the live lab');
  t.deepEqual(rpf!.changes, [{ node: 'router', sysctl: { key: 'net.ipv4.conf.all.rp_filter', value: '1' } }]);
  t.deepEqual(rpf!.overrides, ['node router: sysctls.net.ipv4.conf.all.rp_filter = "1"']);

  const copy = copyOf(lab, 1, narrow);
  t.is(copy.id, 'overrides+ovr-unit-v2');
  t.is(copy.nodes.find((n) => n.name === 'dhost')!.docker!.userlandProxy, false, 'the copy is built from the variant’s topology');
  t.is(copyOf(lab, 0, asWritten).nodes, lab.nodes);
});

test('axis values set settings that unite into each combination', (t) => {
  const lab = loadLab('hairpin-published-port');
  const docker = (name: string) => lab.variants.find((v) => v.name === name)!.topology!.nodes.find((n) => n.name === 'dhost')!.docker!;
  t.deepEqual(
    lab.variants.map((v) => v.name),
    ['proxy-on-filter-on', 'proxy-on-filter-off', 'proxy-off-filter-on', 'proxy-off-filter-off'],
  );
  t.like(docker('proxy-off-filter-off'), { userlandProxy: false, bridgeNetfilter: false });
  t.like(docker('proxy-on-filter-off'), { userlandProxy: true, bridgeNetfilter: false });
  t.like(docker('proxy-off-filter-on'), { userlandProxy: false, bridgeNetfilter: true });
});

test('lab show lists what each variant sets, and which are set on the live lab', async (t) => {
  const result = await lab(['show', fixture]);
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /^ {2}no-proxy-narrow: .*\n {4}sets node dhost: docker\.userlandProxy = false\n/m);
  t.regex(result.stdout, /^ {4}sets link wan: mtu = 1400$/m);
  t.regex(result.stdout, /^ {4}sets node router: sysctls\.net\.ipv4\.conf\.all\.rp_filter = "1" \(on the live lab\)$/m);
});

test('a copy on another kernel carries the kernel in its id, as the lab does', (t) => {
  const resolved = loadLab(fixture, 'k1');
  const narrow = resolved.variants[1]!;
  t.is(copyOf({ ...resolved, kernel: '5.10', id: 'overrides+k1@5-10' }, 1, narrow).id, 'overrides+k1-v2@5-10');
});
