/** A daemon inside a lab kernel's QEMU guest: its roots on the guest's tmpfs, its log and config in the shared folder, containerd its own. */
import test from 'ava';
import { cgroupParentOf, containerdArgv, containerdConfig, dockerdArgv, socketDir, type DaemonRecord } from '../../src/engines/daemon.js';

const record: DaemonRecord = {
  node: 'client',
  series: '26.1',
  namespace: 'lab.docker-1090+eg@5-10.client',
  dir: '/w/engine-client',
  cgroupParent: cgroupParentOf('docker-1090+eg@5-10', 'client'),
  binaries: { dockerd: '/e/sbin/dockerd', docker: '/e/bin/docker', dockerProxy: '/e/sbin/docker-proxy', path: '/e/sbin:/e/bin:/usr/bin' },
  guestDir: '/run/lab-engine/client',
};

test("a guest's dockerd keeps data, exec root, pid file and socket on the guest's tmpfs, and its config in the shared folder", (t) => {
  const argv = dockerdArgv(record, { bip: '172.17.0.1/16', userlandProxy: true });
  for (const flag of [
    '--data-root=/run/lab-engine/client/data',
    '--exec-root=/run/lab-engine/client/run',
    '--pidfile=/run/lab-engine/client/dockerd.pid',
    '--host=unix:///run/lab-engine/client/docker.sock',
    '--config-file=/w/engine-client/daemon.json',
  ])
    t.true(argv.includes(flag), flag);
  t.false(
    argv.some((a) => a.startsWith('--data-root=/w/')),
    'no data root on the 9p share',
  );
});

test("a guest's dockerd uses the containerd the lab started before it, on the guest's tmpfs, as on the host", (t) => {
  const containerdFlags = (r: DaemonRecord) => dockerdArgv(r, { bip: '172.17.0.1/16', userlandProxy: true }).filter((a) => a.startsWith('--containerd='));
  t.deepEqual(containerdFlags(record), ['--containerd=/run/lab-engine/client/run/containerd/containerd.sock']);
  const { guestDir: _, ...onHost } = record;
  t.deepEqual(
    containerdFlags(onHost),
    [`--containerd=${socketDir('/w/engine-client')}/run/containerd/containerd.sock`],
    'on the host, by the short link to the engine folder',
  );
  t.deepEqual(containerdArgv(record), [
    'nsenter',
    '--net=/run/netns/lab.docker-1090+eg@5-10.client',
    'env',
    'PATH=/e/sbin:/e/bin:/usr/bin',
    'containerd',
    '--config=/w/engine-client/containerd.toml',
  ]);
  const config = containerdConfig(record);
  t.regex(config, /address = "\/run\/lab-engine\/client\/run\/containerd\/containerd.sock"/);
  t.regex(config, /root = "\/run\/lab-engine\/client\/data\/containerd\/daemon"/);
});
