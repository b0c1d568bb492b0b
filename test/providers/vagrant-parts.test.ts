/** The pieces of the vagrant provider that read Vagrant's and the VM's output, on real samples. */
import test from 'ava';
import { loadLab } from '../../src/lab/load.js';
import { parseEvent, parseSshConfig, parseStatus } from '../../src/providers/vagrant/cli.js';
import { interfaceDevices, localizeLab } from '../../src/providers/vagrant/devices.js';
import { LabError } from '../../src/errors.js';
import type { Transport } from '../../src/transport/types.js';

const sshConfig = `Host client
  HostName 192.168.52.106
  User vagrant
  Port 22
  UserKnownHostsFile /dev/null
  StrictHostKeyChecking no
  PasswordAuthentication no
  IdentityFile /root/.vagrant.d/insecure_private_key
  IdentitiesOnly yes
  LogLevel FATAL

Host router
  HostName 192.168.52.54
  User vagrant
  Port 2200
  IdentityFile "/root/.vagrant.d/insecure_private_key"
  IdentitiesOnly yes
`;

test('vagrant ssh-config: one entry per machine with address, port, user and key', (t) => {
  t.deepEqual(parseSshConfig(sshConfig), {
    client: { host: '192.168.52.106', port: 22, user: 'vagrant', identityFile: '/root/.vagrant.d/insecure_private_key' },
    router: { host: '192.168.52.54', port: 2200, user: 'vagrant', identityFile: '/root/.vagrant.d/insecure_private_key' },
  });
  t.deepEqual(parseSshConfig('Host half\n  HostName 10.0.0.1\n'), {}, 'an entry without user and key is not usable');
});

test('machine-readable lines: escaped commas and newlines, machine states', (t) => {
  t.deepEqual(parseEvent('1700000000,client,ui,info,==> client: a%!(VAGRANT_COMMA) b\\nc'), {
    target: 'client',
    type: 'ui',
    data: ['info', '==> client: a, b\nc'],
  });
  t.is(parseEvent('not machine readable'), undefined);
  t.deepEqual(parseStatus('1700000000,client,metadata,provider,libvirt\n1700000000,client,state,running\n1700000000,router,state,shutoff\n'), {
    client: 'running',
    router: 'shutoff',
  });
});

const ipAddr = `1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
2: eth0    inet 192.168.52.54/24 brd 192.168.52.255 scope global dynamic eth0\\       valid_lft 3390sec preferred_lft 3390sec
3: eth1    inet 10.10.1.1/24 brd 10.10.1.255 scope global eth1\\       valid_lft forever preferred_lft forever
4: eth2    inet 10.10.2.1/24 brd 10.10.2.255 scope global eth2\\       valid_lft forever preferred_lft forever
`;

function fakeVm(output: string): Transport {
  return { node: 'router', workDir: '/tmp', exec: async () => ({ stdout: output, stderr: '', exitCode: 0 }) } as unknown as Transport;
}

test("a VM's devices are found by the lab's addresses, not by their names", async (t) => {
  const lab = loadLab('docker-1090');
  const router = lab.nodes.find((n) => n.name === 'router')!;
  t.deepEqual(await interfaceDevices(fakeVm(ipAddr), router), { eth0: 'eth1', eth1: 'eth2' });
  const missing = await t.throwsAsync(interfaceDevices(fakeVm(ipAddr.replace('10.10.2.1/24', '10.10.9.1/24')), router));
  t.true(missing instanceof LabError);
  t.regex(missing!.message, /no device with the lab's address 10\.10\.2\.1 \(eth1\)/);
});

test('the lab a run sees on VMs uses their device names everywhere an interface is named', (t) => {
  const lab = loadLab('docker-1090');
  const local = localizeLab(lab, { client: { eth0: 'eth1' }, router: { eth0: 'eth1', eth1: 'eth2' }, server: { eth0: 'eth1' } });
  const node = (l: typeof lab, n: string) => l.nodes.find((x) => x.name === n)!;
  t.deepEqual(
    node(local, 'router').interfaces.map((i) => i.name),
    ['eth1', 'eth2'],
  );
  t.deepEqual(node(local, 'server').interfaces[0]!.peer, { node: 'router', iface: 'eth2' });
  t.is(node(local, 'client').routes[0]!.dev, 'eth1');
  t.deepEqual(
    local.links[1]!.endpoints.map((e) => e.iface),
    ['eth2', 'eth1'],
  );
  t.is(node(local, 'app').interfaces[0]!.name, 'eth0', "a container's own device keeps its name");
  t.is(node(lab, 'router').interfaces[1]!.name, 'eth1', 'the lab itself is not changed');
});
