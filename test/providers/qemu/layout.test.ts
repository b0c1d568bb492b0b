/**
 * The qemu provider's plan of guests, without booting one: which guest each node lives in, the NICs that carry each
 * link (one unix datagram socket per end, each sending to the other's), the kernel per node, and which of the netns
 * plan's commands run in which guest.
 */
import test from 'ava';
import { LabError } from '../../../src/errors.js';
import { loadLab } from '../../../src/lab/load.js';
import { planLab } from '../../../src/providers/netns/plan.js';
import { DEFAULT_SERIES, guestPlans, macOf } from '../../../src/providers/qemu/layout.js';
import { commandsByGuest, renameBatch } from '../../../src/providers/qemu/setup.js';
import { qemuArgv, type GuestFiles } from '../../../src/kernels/guest.js';
import type { CachedKernel } from '../../../src/kernels/cache.js';
import { shapeOf } from '../../../src/providers/qemu/guests.js';

const lab = loadLab('docker-1090', 'golden', { kernel: '5.10' });

test('docker-1090: three guests, the container in its host, each link two NICs whose sockets point at each other', (t) => {
  const plans = guestPlans(lab);
  t.deepEqual(
    plans.map((p) => [p.node, p.series, p.containers, p.nics.map((n) => n.iface)]),
    [
      ['client', '5.10', ['app'], ['eth0']],
      ['router', '5.10', [], ['eth0', 'eth1']],
      ['server', '5.10', [], ['eth0']],
    ],
  );
  const [client, router] = plans;
  t.is(client!.nics[0]!.remote, router!.nics[0]!.local, 'client sends to the router end of links[0]');
  t.is(router!.nics[0]!.remote, client!.nics[0]!.local);
  t.not(client!.nics[0]!.mac, router!.nics[0]!.mac);
  t.regex(client!.files.socket, /\/work\/docker-1090\+golden@5-10\/guests\/client\.sock$/);
});

test("a kernel per node (--kernel 5.10,client=6.1 or kernel: in the lab file) over the lab's; the others boot the default series", (t) => {
  const mixed = loadLab('docker-1090', 'golden', { kernels: { lab: '5.10', nodes: { client: '6.1', router: '6.12' } } });
  t.deepEqual(
    guestPlans(mixed).map((p) => p.series),
    ['6.1', '6.12', '5.10'],
  );
  const one = loadLab('docker-1090', 'golden', { kernels: { nodes: { client: '5.10' } } });
  t.deepEqual(
    guestPlans(one).map((p) => p.series),
    ['5.10', DEFAULT_SERIES, DEFAULT_SERIES],
    'a node no kernel is named for boots the default series',
  );
});

test('MACs are unique per link end', (t) => {
  t.is(macOf(0, 0), '52:54:00:00:00:01');
  t.is(macOf(258, 1), '52:54:00:01:02:02');
});

test("the guest's NICs become the lab's names by MAC, through temporary names (eth1 may be taken by the other NIC)", (t) => {
  const router = guestPlans(lab)[1]!;
  const ipLink = [
    '1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00',
    `2: eth0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN\\    link/ether ${router.nics[1]!.mac} brd ff:ff:ff:ff:ff:ff`,
    `3: eth1: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN\\    link/ether ${router.nics[0]!.mac} brd ff:ff:ff:ff:ff:ff`,
  ].join('\n');
  t.is(
    renameBatch(ipLink, router),
    'link set dev eth1 name labnic0\nlink set dev eth0 name labnic1\nlink set dev labnic0 name eth0\nlink set dev labnic1 name eth1\n',
  );
  t.throws(() => renameBatch(ipLink.split('\n').slice(0, 2).join('\n'), router), { message: /no NIC for eth0 \(links\[0\]\)/ });
});

test("each guest gets its nodes' commands: no namespace for a guest's own node, no veth for a link between guests", (t) => {
  const byGuest = commandsByGuest(lab, planLab(lab));
  t.deepEqual([...byGuest.keys()].sort(), ['client', 'router', 'server']);
  const all = [...byGuest.values()].flat().map((c) => c.argv.join(' '));
  t.false(
    all.some((c) => /^ip netns add lab\.docker-1090\+golden@5-10\.(client|router|server)$/.test(c)),
    'the nodes with a guest use its root namespace',
  );
  t.false(
    all.some((c) => c.includes('type veth') && c.includes('peer name eth0 netns lab.docker-1090+golden@5-10.router')),
    'links between guests are NICs',
  );
  const client = byGuest.get('client')!.map((c) => c.argv.join(' '));
  t.true(client.includes('ip netns add lab.docker-1090+golden@5-10.app'), 'the container is a namespace of its host guest');
  t.true(
    client.some((c) => c.startsWith('ip -n lab.docker-1090+golden@5-10.client link add vc-app type veth peer name eth0 netns lab.docker-1090+golden@5-10.app')),
  );
  t.true(client.some((c) => c.startsWith('ip netns exec lab.docker-1090+golden@5-10.client iptables-restore')));
  t.true(byGuest.get('router')!.every((c) => c.argv.join(' ').includes('.router')));
});

test('QEMU: per-node memory, one vCPU, a dgram netdev and a virtio NIC per link end; the whole-lab guest unchanged', (t) => {
  const kernel = { root: '/cache/5.10/root' } as CachedKernel;
  const plan = guestPlans(lab)[0]!;
  const files: GuestFiles = { ...plan.files };
  const argv = qemuArgv(kernel, { image: '/i', initrd: '/r' }, files, shapeOf(plan, 'tcg'));
  const after = (flag: string) => argv.filter((_, i) => argv[i - 1] === flag);
  t.deepEqual(after('-m'), ['320']);
  t.deepEqual(after('-smp'), ['1']);
  t.deepEqual(after('-accel'), ['tcg,thread=multi,tb-size=128']);
  t.deepEqual(after('-netdev'), [`dgram,id=n0,local.type=unix,local.path=${plan.nics[0]!.local},remote.type=unix,remote.path=${plan.nics[0]!.remote}`]);
  t.true(after('-device').includes(`virtio-net-pci,netdev=n0,mac=${plan.nics[0]!.mac}`));
  const kvm = qemuArgv(kernel, { image: '/i', initrd: '/r' }, files, shapeOf(plan, 'kvm'));
  t.deepEqual(
    kvm.filter((_, i) => kvm[i - 1] === '-accel' || kvm[i - 1] === '-cpu'),
    ['kvm', 'host,-arch-capabilities'],
  );
  const whole = qemuArgv(kernel, { image: '/i', initrd: '/r' }, files);
  t.deepEqual(
    whole.filter((_, i) => ['-m', '-smp', '-accel'].includes(whole[i - 1]!)),
    ['tcg,thread=multi,tb-size=256', '1024', '2'],
  );
  t.false(whole.includes('-netdev'));
});

test('a path with a comma cannot reach a -netdev option', (t) => {
  const plan = guestPlans(lab)[0]!;
  const bad = { ...plan, nics: [{ ...plan.nics[0]!, local: '/tmp/a,b.sock' }] };
  t.throws(() => qemuArgv({ root: '/k' } as CachedKernel, { image: '/i', initrd: '/r' }, plan.files, shapeOf(bad, 'tcg')), {
    instanceOf: LabError,
    message: /cannot be handed to the guest/,
  });
});

test('lab up --dry-run: each guest with its kernel and NICs, then its commands; the lab file checked as for lab up', async (t) => {
  const { descriptorOf } = await import('../../../src/providers/registry.js');
  const mixed = loadLab('docker-1090', 'golden', { kernels: { lab: '5.10', nodes: { client: '6.1' } } });
  const text = await descriptorOf('qemu').plan!(mixed, {});
  const heads = text.split('\n').filter((l) => l.startsWith('# guest '));
  t.deepEqual(heads, [
    '# guest client: kernel 6.1, 320 MiB + 128 MiB translation cache, 1 vCPU',
    '# guest router: kernel 5.10, 320 MiB + 128 MiB translation cache, 1 vCPU',
    '# guest server: kernel 5.10, 320 MiB + 128 MiB translation cache, 1 vCPU',
  ]);
  t.regex(text, /^#\s+NIC eth1 52:54:00:00:01:01 \(links\[1\]\): dgram \S+\/links\/1-0\.sock -> \S+\/links\/1-1\.sock$/m);
  t.regex(text, /^ip netns attach lab\.docker-1090\+golden@5-10@client-6-1\.router 1$/m);
  t.false(text.includes('type veth peer name eth0 netns lab.docker-1090+golden@5-10@client-6-1.router'));
});

test('a socket path longer than a unix socket takes is refused with the way out', (t) => {
  const long = { ...lab, id: `docker-1090+${'x'.repeat(90)}` };
  t.throws(() => guestPlans(long), { instanceOf: LabError, message: /longer than a unix socket takes \(107 bytes\)/ });
});
