/**
 * `--docker existing` against a dockerd that lab did not start: the test starts Debian's 26.1 (from the engine cache) in
 * a namespace of its own, with its own data root, exec root and socket under a temp folder, and gives it a container of
 * its own publishing a port. The lab's container goes on that engine, its client agent runs on that engine's host and
 * reaches the container through the published port; after `lab down` the engine is as it was found: the same containers,
 * networks and images, the same iptables rules in its namespace, the same links, and dockerd still running.
 */
import fs from 'node:fs';
import path from 'node:path';
import { cachedEngine } from '../../src/engines/cache.js';
import { api } from '../../src/engines/api.js';
import { mountsUnder } from '../../src/engines/daemon.js';
import { runCommand, startService } from '../../src/transport/process.js';
import { envFor, lab, root, tempHome } from '../helpers/cli.js';
import { namespacesWithPrefix, rootSnapshot } from '../helpers/host.js';
import { cannotRunHere, testUnless } from '../helpers/e2e.js';

const ENGINE = '26.1';
const NETNS = 'lab-e2e-existing-engine';
const INSTANCE = 'dexist';
const FIXTURE = path.join(root, 'test', 'fixtures', 'existing', 'existing-engine.yaml');
const engine = cachedEngine(ENGINE);
const reason =
  cannotRunHere() ??
  (engine ? undefined : `Docker ${ENGINE} is not cached (node bin/lab.cjs engines --fetch ${ENGINE}; scripts/setup.sh does it)`) ??
  (['/usr/bin/busybox', '/bin/busybox'].some((f) => fs.existsSync(f)) ? undefined : 'busybox is not installed');

/** Folders dockerd and containerd make whatever their roots; those this test's engine made go with it (when empty). */
const FIXED_DIRS = ['/run/docker/plugins', '/run/docker', '/run/containerd/s', '/run/containerd'];

interface TestEngine {
  made: string[];
  dir: string;
  socket: string;
  dockerd: number;
  containerd: number;
}

async function startTestEngine(dir: string): Promise<TestEngine> {
  const made = FIXED_DIRS.filter((d) => !fs.existsSync(d));
  await runCommand(['ip', 'netns', 'add', NETNS]);
  await runCommand(['ip', '-n', NETNS, 'link', 'set', 'lo', 'up']);
  const socket = path.join(dir, 'docker.sock');
  const containerdSocket = path.join(dir, 'run', 'containerd', 'containerd.sock');
  fs.writeFileSync(
    path.join(dir, 'containerd.toml'),
    `version = 2\nroot = "${dir}/data/containerd"\nstate = "${dir}/run/containerd/state"\n[grpc]\n  address = "${containerdSocket}"\n`,
  );
  fs.writeFileSync(path.join(dir, 'daemon.json'), '{}\n');
  const inNs = ['nsenter', `--net=/run/netns/${NETNS}`, 'env', `PATH=${engine!.path}`];
  const containerd = await startService([...inNs, 'containerd', `--config=${dir}/containerd.toml`], path.join(dir, 'containerd.log'), 5);
  await until(() => fs.existsSync(containerdSocket));
  const dockerd = await startService(
    [
      ...inNs,
      engine!.dockerd,
      `--config-file=${dir}/daemon.json`,
      `--data-root=${dir}/data`,
      `--exec-root=${dir}/run`,
      `--pidfile=${dir}/dockerd.pid`,
      `--host=unix://${socket}`,
      `--containerd=${containerdSocket}`,
      '--storage-driver=vfs',
      `--userland-proxy-path=${engine!.dockerProxy}`,
    ],
    path.join(dir, 'dockerd.log'),
    5,
  );
  await until(async () => (await api(socket, 'GET', '/_ping').catch(() => undefined)) === 'OK');
  return { made, dir, socket, dockerd: dockerd.pid, containerd: containerd.pid };
}

/** The engine's own container, on an image of its own, publishing 17070: what the lab must leave alone. */
async function usersOwnContainer(e: TestEngine): Promise<void> {
  const rootfs = path.join(e.dir, 'own-image');
  fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
  fs.copyFileSync(
    ['/usr/bin/busybox', '/bin/busybox'].find((f) => fs.existsSync(f))!,
    path.join(rootfs, 'bin', 'busybox'),
  );
  fs.symlinkSync('busybox', path.join(rootfs, 'bin', 'sleep'));
  await runCommand(['tar', '-C', rootfs, '-cf', `${rootfs}.tar`, '.']);
  await api(e.socket, 'POST', '/images/create?fromSrc=-&repo=users-own&tag=1', fs.readFileSync(`${rootfs}.tar`));
  const created = await api<{ Id: string }>(e.socket, 'POST', '/containers/create?name=users-own', {
    Image: 'users-own:1',
    Cmd: ['sleep', '100000'],
    ExposedPorts: { '7070/tcp': {} },
    HostConfig: { PortBindings: { '7070/tcp': [{ HostPort: '17070' }] } },
  });
  await api(e.socket, 'POST', `/containers/${created.Id}/start`);
}

/** What "as it was found" means: containers, networks and images of the engine, rules and links of its namespace. */
async function engineSnapshot(e: TestEngine): Promise<Record<string, unknown>> {
  const containers = await api<Array<{ Id: string; Names: string[]; State: string; Image: string }>>(e.socket, 'GET', '/containers/json?all=1');
  const networks = await api<Array<{ Id: string; Name: string }>>(e.socket, 'GET', '/networks');
  const images = await api<Array<{ Id: string; RepoTags: string[] | null }>>(e.socket, 'GET', '/images/json?all=1');
  const rules = (await runCommand(['ip', 'netns', 'exec', NETNS, 'iptables-save'])).stdout
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/, '[counters]'));
  const links = (await runCommand(['ip', '-n', NETNS, '-o', 'link'])).stdout.split('\n').map((l) => l.split(':')[1]?.trim() ?? '');
  return {
    containers: containers.map((c) => `${c.Id} ${c.Names.join(',')} ${c.State} ${c.Image}`).sort(),
    networks: networks.map((n) => `${n.Id} ${n.Name}`).sort(),
    images: images.map((i) => `${i.Id} ${(i.RepoTags ?? []).join(',')}`).sort(),
    rules,
    links: links.sort(),
  };
}

async function stopTestEngine(e: TestEngine): Promise<void> {
  const all = await api<Array<{ Id: string }>>(e.socket, 'GET', '/containers/json?all=1').catch(() => []);
  for (const c of all) await api(e.socket, 'DELETE', `/containers/${c.Id}?force=1`).catch(() => undefined);
  for (const pid of [e.dockerd, e.containerd]) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      continue;
    }
    await until(() => !fs.existsSync(`/proc/${pid}`) || /^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')), 20_000).catch(() =>
      process.kill(pid, 'SIGKILL'),
    );
  }
  for (const point of mountsUnder(e.dir)) await runCommand(['umount', '-l', point], { check: false });
  await runCommand(['ip', 'netns', 'delete', NETNS], { check: false });
  fs.rmSync(e.dir, { recursive: true, force: true });
  for (const d of e.made) {
    try {
      fs.rmdirSync(d);
    } catch {
      // not empty: another engine uses it
    }
  }
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

testUnless(reason, `--docker existing on a dockerd lab did not start: the lab runs there, and lab down leaves that engine as it was found`, async (t) => {
  const home = tempHome('lab-existing-');
  const dir = fs.mkdtempSync(path.join(home, 'engine-'));
  const testEngine = await startTestEngine(dir);
  const env = { ...envFor(home), DOCKER_HOST: `unix://${testEngine.socket}` };
  t.teardown(async () => {
    await lab(['down', FIXTURE, '--instance', INSTANCE], env);
    await stopTestEngine(testEngine);
  });
  await usersOwnContainer(testEngine);
  const before = await engineSnapshot(testEngine);
  const rootBefore = await rootSnapshot();

  const run = await lab(['run', FIXTURE, '--instance', INSTANCE, '--docker', 'existing', '--json'], env);
  t.is(run.code, 0, run.stderr.slice(-2000));
  const result = JSON.parse(run.stdout) as { engine?: string; variants: Array<{ name: string; verdict: string; reason: string }> };
  t.regex(result.engine ?? '', new RegExp(`^Docker 26\\.1\\.\\d+\\S* \\(existing engine at ${testEngine.socket.replace(/[.+]/g, '\\$&')}\\) on dhost$`));
  t.is(result.variants[0]!.verdict, 'NOT_REPRODUCED', result.variants[0]!.reason);
  t.regex(result.variants[0]!.reason, /5 echoes of the 5 lines reached the client through 127\.0\.0\.1:18080/);

  // Up again to look at it: the lab's container on that engine, the lab's name for the host on the engine's namespace.
  const up = await lab(['up', FIXTURE, '--instance', INSTANCE, '--docker', 'existing'], env);
  t.is(up.code, 0, up.stderr);
  const names = (await api<Array<{ Names: string[]; Labels: Record<string, string> }>>(testEngine.socket, 'GET', '/containers/json')).map((c) => c.Names[0]);
  t.deepEqual(names.sort(), ['/lab-existing-engine_dexist-web', '/users-own']);
  const inode = (p: string) => fs.statSync(p).ino;
  t.is(inode(`/run/netns/lab.existing-engine+${INSTANCE}.dhost`), inode(`/run/netns/${NETNS}`), "the lab's dhost is the engine's namespace");
  const status = await lab(['status'], env);
  t.regex(status.stdout, /Docker 26\.1\.\S+ \(existing engine at .*, containers lab-existing-engine_dexist-web\) on dhost/);

  const down = await lab(['down', FIXTURE, '--instance', INSTANCE], env);
  t.is(down.code, 0, down.stderr);
  t.deepEqual(await engineSnapshot(testEngine), before);
  t.true(fs.existsSync(`/proc/${testEngine.dockerd}`), "the engine's dockerd still runs");
  t.deepEqual(await namespacesWithPrefix(`lab.existing-engine+${INSTANCE}.`), []);
  t.true(fs.existsSync(`/run/netns/${NETNS}`), "the engine's namespace is still there");
  t.is(await rootSnapshot(), rootBefore);
});

testUnless(reason, '--docker existing refuses a lab whose docker host has links, and an engine that does not answer', async (t) => {
  const home = tempHome('lab-existing-');
  const env = { ...envFor(home), DOCKER_HOST: `unix://${path.join(home, 'no-such.sock')}` };
  const linked = await lab(['up', 'docker-1090', '--instance', INSTANCE, '--docker', 'existing'], env);
  t.is(linked.code, 1, linked.stderr);
  t.regex(linked.stderr, /--docker existing runs client's agents on the running engine's host .* the lab links client to router/);
  t.regex(linked.stderr, /no Docker engine socket at .*no-such\.sock/);
  const tcp = await lab(['up', FIXTURE, '--instance', INSTANCE, '--docker', 'existing'], { ...env, DOCKER_HOST: 'tcp://127.0.0.1:2375' });
  t.not(tcp.code, 0);
  t.regex(tcp.stderr, /--docker existing reaches an engine over a unix socket, and DOCKER_HOST is tcp:\/\/127\.0\.0\.1:2375/);
  t.deepEqual(await namespacesWithPrefix(`lab.docker-1090+${INSTANCE}.`), []);
});
