/** A kernel per node: the lab file's kernel:, --kernel node=..., what a lab's id carries, and which providers refuse what. */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LabError } from '../../src/errors.js';
import { loadLabText } from '../../src/lab/load.js';
import { labFileSchema } from '../../src/lab/schema.js';
import { assertKernelsFit, differingKernels, kernelTag, nodeKernel, parseKernelChoices, type KernelAbility } from '../../src/lab/node-kernels.js';
import { descriptorOf, providers } from '../../src/providers/registry.js';
import { envFor, lab as cli, root, tempHome } from '../helpers/cli.js';
import { namespacesWithPrefix } from '../helpers/host.js';
import { readKernels } from '../../src/run/kernel-version.js';
import { describeTopology } from '../../src/report/console.js';
import { runTargets } from '../../src/commands/run.js';
import type { Transport } from '../../src/transport/types.js';

const file = path.join(root, 'labs', 'docker-1090', 'lab.yaml');
const written = fs.readFileSync(file, 'utf8');

/** docker-1090 with `kernel:` lines added under the nodes named (as written: unquoted 5.10 stays 5.10). */
function withKernels(kernels: Record<string, string>): string {
  let text = written;
  for (const [node, kernel] of Object.entries(kernels)) text = text.replace(`  ${node}:\n    role: `, `  ${node}:\n    kernel: ${kernel}\n    role: `);
  return text;
}

const load = (text: string, options: Parameters<typeof loadLabText>[3] = {}) => loadLabText(file, text, 'nk', options);
const machines = (lab: ReturnType<typeof load>) => Object.fromEntries(lab.nodes.map((n) => [n.name, n.kernel]));

test('kernel: 5.10 unquoted is 5.10, not the number 5.1; the same kernel on every node is the lab kernel, as --kernel 5.10 gives', (t) => {
  const lab = load(withKernels({ client: '5.10', router: '5.10', server: '"5.10"' }));
  t.is(lab.kernel, '5.10');
  t.deepEqual(machines(lab), { client: undefined, router: undefined, server: undefined, app: undefined }, 'no node carries its own');
  t.is(lab.id, 'docker-1090+nk', "the id carries only the command line's kernels: lab down docker-1090 finds it");
  t.is(lab.kernelArg, undefined);
  t.is(nodeKernel(lab, 'app'), '5.10');
});

test('nodes on different kernels: each carries its own, the lab none; a container runs on its host kernel', (t) => {
  const lab = load(withKernels({ client: '"6.1"', router: '5.10' }));
  t.is(lab.kernel, undefined);
  t.deepEqual(machines(lab), { client: '6.1', router: '5.10', server: undefined, app: undefined });
  t.is(nodeKernel(lab, 'app'), '6.1');
  t.is(nodeKernel(lab, 'server'), undefined, "this machine's, or a provider's default");
  t.deepEqual(differingKernels(lab), { client: '6.1', router: '5.10', server: "this machine's" });
  t.is(lab.id, 'docker-1090+nk');
});

test("--kernel 5.10 sets every node over the lab file's, and is what it was before per-node kernels", (t) => {
  const mixed = withKernels({ client: '6.1', router: '5.10' });
  const lab = load(mixed, { kernels: { lab: '5.10', nodes: {} } });
  t.is(lab.kernel, '5.10');
  t.deepEqual(machines(lab), { client: undefined, router: undefined, server: undefined, app: undefined });
  t.is(lab.id, 'docker-1090+nk@5-10');
  t.is(lab.kernelArg, '5.10');
  t.deepEqual(load(mixed, { kernel: '5.10' }), lab, 'the old option gives the same lab');
});

test('--kernel client=6.1 sets one node; a node beside --kernel 5.10 wins over it; the id carries both', (t) => {
  const one = load(written, { kernels: { nodes: { client: '6.1' } } });
  t.deepEqual(machines(one), { client: '6.1', router: undefined, server: undefined, app: undefined });
  t.is(one.id, 'docker-1090+nk@client-6-1');
  t.is(one.kernelArg, 'client=6.1');
  const both = load(withKernels({ server: '6.12' }), { kernels: { lab: '5.10', nodes: { client: '6.1' } } });
  t.deepEqual(machines(both), { client: '6.1', router: '5.10', server: '5.10', app: undefined }, '--kernel 5.10 replaces server 6.12 of the file');
  t.is(both.id, 'docker-1090+nk@5-10@client-6-1');
  const same = load(written, { kernels: { nodes: { client: '6.1', router: '6.1', server: '6.1' } } });
  t.is(same.kernel, '6.1', 'every node named with one kernel is a lab on that kernel');
});

test('--kernel naming a node the lab does not have, or a container, is refused with the nodes it has', (t) => {
  const unknown = t.throws(() => load(written, { kernels: { nodes: { nat: '6.1' } } }), { instanceOf: LabError });
  t.is(unknown?.message, '--kernel nat=...: docker-1090 has no node nat', "the command line's mistake, not the file's");
  t.is(unknown?.hint, 'its hosts and routers: client, router, server');
  const container = t.throws(() => load(written, { kernels: { nodes: { app: '6.1' } } }), { instanceOf: LabError });
  t.regex(container?.message ?? '', /--kernel app=\.\.\.: app is a container; it runs on its host's kernel$/);
  t.is(container?.hint, 'give its host a kernel: --kernel client=6.1');
});

test('the schema takes a series as text and refuses others, listing the series; a YAML number 5.1 is told to quote', (t) => {
  const node = (kernel: unknown) => {
    const data = { ...labFileSchema.parse(JSON.parse(JSON.stringify(minimal))), nodes: { a: { role: 'host', kernel } } };
    const parsed = labFileSchema.safeParse(data);
    return parsed.success ? parsed.data.nodes.a!.kernel : parsed.error.issues.map((i) => i.message).join('; ');
  };
  t.is(node('6.12'), '6.12');
  t.is(node(6.1), '6.1', 'the number 6.1 is the series 6.1');
  t.is(node('4.19'), 'a kernel series (lab kernels): 5.10 (bullseye), 6.1 (bookworm), 6.12 (trixie)');
  t.is(node('host'), 'a kernel series (lab kernels): 5.10 (bullseye), 6.1 (bookworm), 6.12 (trixie)');
  t.is(node(5.1), 'a kernel series as text: YAML reads an unquoted 5.10 as the number 5.1, write kernel: "5.10"');
});

const minimal = {
  name: 'x',
  title: 'x',
  upstream: ['https://example.org/x'],
  description: 'x',
  nodes: { a: { role: 'host' } },
  scenario: { kind: 'oow-rst' },
};

test('--kernel values: every node, one node, both; lists make runs, several values and nodes multiply', (t) => {
  t.deepEqual(parseKernelChoices(undefined), [{ nodes: {} }]);
  t.deepEqual(parseKernelChoices('5.10,host'), [
    { lab: '5.10', nodes: {} },
    { lab: 'host', nodes: {} },
  ]);
  t.deepEqual(parseKernelChoices('router=5.10,6.1'), [{ nodes: { router: '5.10' } }, { nodes: { router: '6.1' } }]);
  t.deepEqual(parseKernelChoices(['router=bullseye,6.1', 'client=6.1']), [
    { nodes: { router: '5.10', client: '6.1' } },
    { nodes: { router: '6.1', client: '6.1' } },
  ]);
  t.deepEqual(parseKernelChoices('6.12,client=5.10'), [{ lab: '6.12', nodes: { client: '5.10' } }]);
  t.deepEqual(parseKernelChoices('router=5.10,5.10'), [{ nodes: { router: '5.10' } }], 'a kernel named twice is one run');
  t.deepEqual(parseKernelChoices(['5.10', '6.1']), [
    { lab: '5.10', nodes: {} },
    { lab: '6.1', nodes: {} },
  ]);
});

test('--kernel values that are refused, each with what to write instead', (t) => {
  const refused = (value: string | string[]) => {
    const e = t.throws(() => parseKernelChoices(value), { instanceOf: LabError });
    return `${e?.message} | ${e?.hint}`;
  };
  t.is(
    refused('client=host'),
    "--kernel client=host: a node's own kernel is a Debian series, 5.10 (bullseye), 6.1 (bookworm), 6.12 (trixie) | host is every node at once: --kernel host",
  );
  t.regex(refused('client=4.19'), /^"4\.19" is not a kernel this tool knows/);
  t.is(refused(['router=5.10', 'router=6.1']), '--kernel names node router twice | list its kernels once: --kernel router=5.10,6.1');
  t.is(refused('client='), '--kernel names no kernel | e.g. --kernel 5.10,host or --kernel client=5.10');
  t.regex(refused('=5.10'), /^--kernel: "" is not a node name/);
  t.regex(refused('Client=5.10'), /^--kernel: "Client" is not a node name/);
});

test("a lab's id carries the command line's kernels: every node's first, then each node's by name", (t) => {
  t.is(kernelTag(undefined), undefined);
  t.is(kernelTag({ lab: '5.10', nodes: {} }), '5-10', 'as --kernel 5.10 always did');
  t.is(kernelTag({ lab: 'host', nodes: {} }), undefined);
  t.is(kernelTag({ nodes: { router: '6.1', client: '5.10' } }), 'client-5-10@router-6-1');
  t.is(kernelTag({ lab: 'host', nodes: { client: '6.1' } }), 'host@client-6-1', 'host beside a node overrides the file: another lab');
});

const perNode: KernelAbility = { name: 'guests', capabilities: { otherKernels: true, kernelPerNode: true } };

test('a provider that runs every node on one kernel refuses nodes on different kernels, naming itself and each node', (t) => {
  const mixed = load(withKernels({ client: '6.1', router: '5.10' }));
  const netns = t.throws(() => assertKernelsFit(mixed, descriptorOf('netns'), providers), { instanceOf: LabError });
  t.is(
    netns?.message,
    "the netns provider runs every node of docker-1090 on one kernel, and its nodes ask for different ones: client 6.1, router 5.10, server this machine's",
  );
  t.is(netns?.hint, 'use --provider qemu, or give every node one kernel, e.g. --kernel 6.1');
  t.throws(() => assertKernelsFit(mixed, descriptorOf('ssh'), providers), { message: /^the ssh provider runs every node/ });
  const withGuests = t.throws(() => assertKernelsFit(mixed, descriptorOf('vagrant'), [...providers, perNode]), { instanceOf: LabError });
  t.is(withGuests?.hint, 'use --provider qemu or guests, or give every node one kernel, e.g. --kernel 6.1');
  t.notThrows(() => assertKernelsFit(mixed, perNode, [...providers, perNode]));
});

test('one kernel on every node: netns runs it in its guest; a provider that cannot boot another kernel refuses it', (t) => {
  const uniform = load(withKernels({ client: '6.1', router: '6.1', server: '6.1' }));
  t.notThrows(() => assertKernelsFit(uniform, descriptorOf('netns'), providers));
  const vagrant = t.throws(() => assertKernelsFit(uniform, descriptorOf('vagrant'), providers), { instanceOf: LabError });
  t.is(vagrant?.message, 'the vagrant provider runs docker-1090 on the kernels its machines have, not on 6.1');
  t.is(vagrant?.hint, "use --provider netns or qemu, or leave out --kernel and the nodes' kernel: in the lab file");
  t.notThrows(() => assertKernelsFit(load(written), descriptorOf('vagrant'), providers), "this machine's kernel is no request");
  t.deepEqual(
    providers.filter((p) => p.capabilities.kernelPerNode).map((p) => p.name),
    ['qemu'],
    'qemu alone gives each node its own kernel',
  );
});

test('lab up and lab run on netns refuse a node kernel of their own before anything is created (exit 2)', async (t) => {
  const env = envFor(tempHome());
  const up = await cli(['up', 'docker-1090', '--kernel', 'client=5.10', '--instance', 'nkref'], env);
  t.is(up.code, 2);
  t.is(
    up.stderr,
    "error: the netns provider runs every node of docker-1090 on one kernel, and its nodes ask for different ones: client 5.10, router this machine's, server this machine's\nhint: use --provider qemu, or give every node one kernel, e.g. --kernel 5.10\n",
  );
  const run = await cli(['run', 'docker-1090', '--kernel', 'router=5.10,6.1', '--kernel', 'client=6.1', '--instance', 'nkref'], env);
  t.is(run.code, 2);
  t.regex(
    run.stderr,
    /^error: the netns provider runs every node of docker-1090 on one kernel, and its nodes ask for different ones: client 6\.1, router 5\.10, server this machine's\n/,
  );
  t.deepEqual(await namespacesWithPrefix('lab.docker-1090+nkref'), []);
  const plan = await cli(['up', 'docker-1090', '--kernel', 'client=6.1,router=6.1,server=6.1', '--instance', 'nkref', '--dry-run'], env);
  t.is(plan.code, 0, 'every node on one kernel is --kernel 6.1 for netns');
});

/** A node that answers uname -r with its kernel; the nodes asked, in order. */
function fakeNodes(kernels: Record<string, string>) {
  const asked: string[] = [];
  const transport = (node: string) =>
    ({
      exec: async (argv: readonly string[]) => {
        if (argv[0] === 'uname') asked.push(node);
        return { stdout: argv[0] === 'uname' ? `${kernels[node]}\n` : '', stderr: '', exitCode: argv[0] === 'uname' ? 0 : 1 };
      },
    }) as unknown as Transport;
  return { asked, transport };
}

test("a run reads each host's and router's kernel only when the lab's nodes differ; one node otherwise", async (t) => {
  const nodes = fakeNodes({ client: '6.1.0-40-amd64', router: '5.10.0-32-amd64', server: '6.12.57+deb13-amd64' });
  const mixed = load(withKernels({ client: '6.1', router: '5.10', server: '6.12' }));
  const read = await readKernels(mixed, nodes.transport);
  t.deepEqual(nodes.asked.sort(), ['client', 'router', 'server'], 'not the container: it runs on its host kernel');
  t.is(read.kernel, '6.1.0-40-amd64', "the run's kernel stays the first node's");
  t.deepEqual(read.nodeKernels, {
    client: { kernel: '6.1.0-40-amd64', kernelVersion: '6.1.0' },
    router: { kernel: '5.10.0-32-amd64', kernelVersion: '5.10.0' },
    server: { kernel: '6.12.57+deb13-amd64', kernelVersion: '6.12.57' },
  });
  const one = fakeNodes({ client: '6.18.44-fc-v1300' });
  const uniform = await readKernels(load(written), one.transport);
  t.deepEqual(one.asked, ['client']);
  t.false('nodeKernels' in uniform);
});

test('lab validate refuses nodes on different kernels for a provider that cannot run them; lab show names each node kernel', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nk-'));
  const labFile = path.join(dir, 'lab.yaml');
  fs.writeFileSync(labFile, withKernels({ client: '6.1', router: '5.10' }));
  const refused = await cli(['validate', labFile]);
  t.is(refused.code, 2);
  t.regex(
    refused.stderr,
    /^error: the netns provider runs every node of docker-1090 on one kernel, and its nodes ask for different ones: client 6\.1, router 5\.10/,
  );
  t.is((await cli(['validate', labFile, '--provider', 'vagrant'])).code, 2);
  fs.writeFileSync(labFile, withKernels({ client: '6.1', router: '6.1', server: '6.1' }));
  t.is((await cli(['validate', labFile])).stdout, `${labFile}: valid for provider netns (4 nodes, 2 links, 8 variants)\n`, 'one kernel: netns boots it');
  const topology = describeTopology(load(withKernels({ client: '6.1', router: '5.10' })));
  t.true(topology.includes('  client (host, docker-host, kernel 6.1)\n'));
  t.true(topology.includes('  router (router, kernel 5.10)\n'));
  t.true(topology.includes('  server (host)\n'));
  fs.rmSync(dir, { recursive: true });
});

test("lab run's targets: each choice of --kernel with each engine; one target as the lab file says without --kernel", (t) => {
  t.deepEqual(runTargets([undefined], [undefined]), [{ kernel: undefined, docker: undefined }]);
  t.deepEqual(runTargets(parseKernelChoices(['router=5.10,6.1', 'client=6.1']), ['26.1']), [
    { kernels: { nodes: { router: '5.10', client: '6.1' } }, kernel: undefined, docker: '26.1' },
    { kernels: { nodes: { router: '6.1', client: '6.1' } }, kernel: undefined, docker: '26.1' },
  ]);
  t.deepEqual(
    runTargets(parseKernelChoices('5.10,host'), ['20.10', '26.1']).map((x) => [x.kernel, x.kernels?.lab, x.docker]),
    [
      ['5.10', '5.10', '20.10'],
      ['5.10', '5.10', '26.1'],
      [undefined, 'host', '20.10'],
      [undefined, 'host', '26.1'],
    ],
    'kernel stays what --kernel 5.10,host gave it (undefined for host); kernels says host explicitly',
  );
});
