/** In a guest, Node cannot reach the daemon's socket (on the guest's tmpfs): every container operation is the docker client, through the guest's runner. */
import test from 'ava';
import { cgroupParentOf, type DaemonRecord } from '../../src/engines/daemon.js';
import { containerCommand, replaceContainer, runContainer } from '../../src/engines/containers.js';
import type { Runner } from '../../src/transport/runner.js';

const record: DaemonRecord = {
  node: 'client',
  series: '26.1',
  namespace: 'lab.docker-1090+eg@5-10.client',
  dir: '/w/engine-client',
  cgroupParent: cgroupParentOf('docker-1090+eg@5-10', 'client'),
  binaries: { dockerd: '/e/sbin/dockerd', docker: '/e/bin/docker', dockerProxy: '/e/sbin/docker-proxy', path: '/e/sbin:/e/bin' },
  guestDir: '/run/lab-engine/client',
};

/** A guest runner that answers `docker run` with an id and `docker inspect` with a pid and the address given. */
function fakeGuest(address: string): { runner: Runner; calls: string[][] } {
  const calls: string[][] = [];
  const runner: Runner = {
    run: async (argv) => {
      calls.push([...argv]);
      const verb = argv[3];
      return { stdout: verb === 'run' ? 'c0ffee\n' : verb === 'inspect' ? `4242 ${address}\n` : '', stderr: '', exitCode: 0 };
    },
    start: () => {
      throw new Error('not used');
    },
    service: () => Promise.reject(new Error('not used')),
    attach: () => Promise.reject(new Error('not used')),
    rootless: false,
    slowdown: 10,
  };
  return { runner, calls };
}

const client = ['/e/bin/docker', '-H', 'unix:///run/lab-engine/client/docker.sock'];

test('docker run and inspect in the guest, against the socket on its tmpfs', async (t) => {
  const { runner, calls } = fakeGuest('172.17.0.2');
  const running = await runContainer(record, { name: 'client-c', address: '172.17.0.2', publish: [] }, runner);
  t.deepEqual(running, { name: 'client-c', id: 'c0ffee', pid: 4242, address: '172.17.0.2' });
  t.deepEqual(
    calls.map((c) => c.slice(0, 4)),
    [
      [...client, 'run'],
      [...client, 'inspect'],
    ],
  );
  t.is(calls[1]!.at(-1), 'c0ffee');
});

test("the engine's lifecycle commands and a replacement go through the guest's docker client too", async (t) => {
  const { runner, calls } = fakeGuest('172.17.0.3');
  await containerCommand(record, 'restart', 'client-c', runner);
  t.deepEqual(calls[0], [...client, 'restart', '--time', '1', 'client-c']);
  calls.length = 0;
  await replaceContainer(record, 'client-c', { name: 'client-d', address: '172.17.0.3', publish: [] }, '172.17.0.2', runner);
  t.deepEqual(
    calls.map((c) => c.slice(3, 5)),
    [
      ['rm', '--force'],
      ['run', '--detach'],
      ['run', '--detach'],
      ['inspect', '--format'],
      ['rm', '--force'],
    ],
    'the old one removed, a placeholder holds its address, the new one runs, the placeholder goes',
  );
});
