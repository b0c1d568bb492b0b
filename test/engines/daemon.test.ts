/** The parts of a real engine that need no daemon: its command line, the plan around it, and how leftovers are found. */
import test from 'ava';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  cgroupParentOf,
  containerdArgv,
  containerdConfig,
  dockerdArgv,
  mountsUnder,
  shimSockets,
  socketDir,
  type DaemonRecord,
} from '../../src/engines/daemon.js';

/** The short link a host engine's sockets and exec root are reached by (containerd's 104-byte socket paths). */
const short = socketDir('/w/engine-client');
import { createBody, runArgv } from '../../src/engines/containers.js';
import { loadLab } from '../../src/lab/load.js';
import { planLab, renderPlan } from '../../src/providers/netns/plan.js';
import { alongsideBuild, enginesOf, realEngines, renderEngines } from '../../src/providers/netns/engine.js';

const record: DaemonRecord = {
  node: 'client',
  series: '26.1',
  namespace: 'lab.docker-1090+eng.client',
  dir: '/w/engine-client',
  cgroupParent: cgroupParentOf('docker-1090+eng', 'client'),
  binaries: { dockerd: '/e/dockerd', docker: '/e/docker', dockerProxy: '/e/docker-proxy', path: '/e:/usr/bin' },
};

test('dockerd enters the node namespace with nsenter (not ip netns exec) and keeps everything in its folder', (t) => {
  const argv = dockerdArgv(record, { bip: '172.17.0.1/16', userlandProxy: false });
  t.deepEqual(argv.slice(0, 5), ['nsenter', '--net=/run/netns/lab.docker-1090+eng.client', 'env', 'PATH=/e:/usr/bin', '/e/dockerd']);
  for (const flag of ['--config-file=/w/engine-client/daemon.json', '--data-root=/w/engine-client/data', `--exec-root=${short}/run`])
    t.true(argv.includes(flag), flag);
  t.true(argv.includes('--pidfile=/w/engine-client/dockerd.pid'));
  t.true(argv.includes(`--host=unix://${short}/docker.sock`));
  t.regex(short, /^\/run\/lab-engines\/[0-9a-f]{16}$/);
  t.true(argv.includes('--cgroup-parent=/lab-docker-1090_eng-client'));
  t.true(argv.includes('--userland-proxy=false'));
  t.true(argv.includes('--userland-proxy-path=/e/docker-proxy'));
  t.false(argv.some((a) => a.startsWith('--data-root=/var/lib/docker')));
});

test('a container runs on the default bridge with its published ports and the host tools bound read-only', (t) => {
  const argv = runArgv({ name: 'app', address: '172.17.0.2', publish: [{ hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, proto: 'udp' }] });
  t.deepEqual(argv.slice(0, 8), ['run', '--detach', '--name', 'app', '--hostname', 'app', '--network', 'bridge']);
  t.true(argv.join(' ').includes('--volume /usr:/usr:ro --volume /lib:/lib:ro --volume /lib64:/lib64:ro'));
  t.true(argv.join(' ').includes('--publish 0.0.0.0:8080:80/udp'));
});

test("a killed shim's socket is found from the containers in the data root (containerd's own naming)", (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-engine-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  t.deepEqual(shimSockets(dir), []);
  fs.mkdirSync(path.join(dir, 'data', 'containers', 'abc'), { recursive: true });
  const address = path.join(socketDir(dir), 'run', 'containerd', 'containerd.sock');
  t.deepEqual(shimSockets(dir), [path.join('/run/containerd/s', createHash('sha256').update(`${address}/moby/abc`).digest('hex'))]);
  t.deepEqual(mountsUnder(dir), []);
});

test('mount points are read from mountinfo, deepest first, only under the folder', (t) => {
  const all = mountsUnder('/');
  t.true(all.includes('/'));
  t.true(all.indexOf('/') === all.length - 1, 'the folder itself comes last');
  t.deepEqual(mountsUnder('/no/such/folder'), []);
});

test('--docker over the lab file; each docker-host node emulated unless one says', (t) => {
  const lab = loadLab('docker-1090', 'eng');
  t.deepEqual([...enginesOf(lab, undefined)], [['client', 'emulated']]);
  t.deepEqual([...realEngines(lab, undefined)], []);
  t.deepEqual([...realEngines(lab, '26.1')], [['client', '26.1']]);
  const file = { ...lab, nodes: lab.nodes.map((n) => (n.docker ? { ...n, docker: { ...n.docker, engine: '20.10' } } : n)) };
  t.deepEqual([...realEngines(file, undefined)], [['client', '20.10']]);
  t.deepEqual([...realEngines(file, 'emulated')], []);
  t.throws(() => realEngines(lab, '19.03'), { message: '"19.03" is not a Docker engine this tool knows' });
});

test("on a real engine the plan leaves the node's bridge, containers, rules and docker-proxy to dockerd", (t) => {
  const lab = loadLab('docker-1090', 'eng');
  const emulated = renderPlan(planLab(lab));
  const real = renderPlan(planLab(lab, 'docker-proxy', new Set(['client'])));
  t.regex(emulated, /ip netns add lab\.docker-1090\+eng\.app/);
  t.regex(emulated, /iptables-restore/);
  t.regex(emulated, /link add docker0 type bridge/);
  t.notRegex(real, /lab\.docker-1090\+eng\.app/);
  t.notRegex(real, /iptables-restore|docker0|vc-app/);
  t.notRegex(real, /client sysctl -qw net\.ipv4\.ip_forward=1/, 'dockerd turns forwarding on itself');
  t.regex(real, /^# Create 3 namespaces$/m);
  const engines = renderEngines(lab, realEngines(lab, '26.1'));
  t.regex(engines, /^# Docker 26\.1 on client \(real dockerd/m);
  t.regex(engines, /^nsenter --net=\/run\/netns\/lab\.docker-1090\+eng\.client env PATH=.* --bip=172\.17\.0\.1\/16 /m);
  t.regex(engines, /run --detach --name app .* lab-busybox:local sleep 2147483647$/m);
  t.regex(engines, /^ip netns attach lab\.docker-1090\+eng\.app <pid of app>$/m);
});

test('containerd starts first, in the node namespace, with the folders dockerd gives a managed one; dockerd is pointed at it', (t) => {
  const argv = containerdArgv(record);
  t.deepEqual(argv, [
    'nsenter',
    '--net=/run/netns/lab.docker-1090+eng.client',
    'env',
    'PATH=/e:/usr/bin',
    'containerd',
    '--config=/w/engine-client/containerd.toml',
  ]);
  const config = containerdConfig(record);
  t.regex(config, /^root = "\/w\/engine-client\/data\/containerd\/daemon"$/m);
  t.true(config.includes(`state = "${short}/run/containerd/daemon"`));
  t.true(config.includes(`  address = "${short}/run/containerd/containerd.sock"`));
  t.regex(config, /io\.containerd\.grpc\.v1\.cri/);
  t.true(dockerdArgv(record, { bip: '172.17.0.1/16', userlandProxy: true }).includes(`--containerd=${short}/run/containerd/containerd.sock`));
});

test('the API body of a container says what runArgv says: default bridge, host tools read-only, each published port', (t) => {
  const spec = {
    name: 'app',
    address: '172.17.0.2',
    publish: [
      { hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, proto: 'udp' as const },
      { hostIp: '127.0.0.1', hostPort: 8081, containerPort: 80, proto: 'udp' as const },
      { hostIp: '0.0.0.0', hostPort: 9000, containerPort: 9000, proto: 'tcp' as const },
    ],
  };
  const body = createBody(spec) as {
    HostConfig: Record<string, unknown>;
    ExposedPorts: Record<string, unknown>;
    Image: string;
    Hostname: string;
    Cmd: string[];
  };
  t.is(body.Image, 'lab-busybox:local');
  t.is(body.Hostname, 'app');
  t.deepEqual(body.Cmd, runArgv(spec).slice(-2));
  t.is(body.HostConfig.NetworkMode, 'bridge');
  t.deepEqual(body.HostConfig.Binds, ['/usr:/usr:ro', '/lib:/lib:ro', '/lib64:/lib64:ro']);
  t.deepEqual(body.HostConfig.PortBindings, {
    '80/udp': [
      { HostIp: '0.0.0.0', HostPort: '8080' },
      { HostIp: '127.0.0.1', HostPort: '8081' },
    ],
    '9000/tcp': [{ HostIp: '0.0.0.0', HostPort: '9000' }],
  });
  t.deepEqual(Object.keys(body.ExposedPorts), ['80/udp', '9000/tcp']);
});

test("the engines' steps run beside the plan's, and a failure is reported only once every one of them has ended", async (t) => {
  const ended: string[] = [];
  const step = (title: string, ms: number, fail = false) => ({
    title,
    run: async () => {
      await new Promise((r) => setTimeout(r, ms));
      ended.push(title);
      if (fail) throw new Error(`${title} failed`);
    },
  });
  const steps = alongsideBuild(step('build', 10, true), [
    { series: '26.1', step: step('engine', 60) },
    { series: 'existing', step: step('existing', 1) },
  ]);
  t.deepEqual(
    steps.map((s) => s.title),
    ['build; engine', 'existing'],
  );
  await t.throwsAsync(() => steps[0]!.run(() => undefined) as Promise<unknown>, { message: 'build failed' });
  t.deepEqual(ended, ['build', 'engine']);
  t.deepEqual(
    alongsideBuild(step('build', 1), []).map((s) => s.title),
    ['build'],
  );
});
