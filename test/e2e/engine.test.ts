/**
 * docker-1090 on a real Docker 26.1 (Debian's dockerd in the client host's namespace): every verdict as the lab file
 * expects, and nothing of the engine (dockerd, containerd, shims, docker-proxy, containers, mounts, cgroups, folders)
 * outlives `lab down`, also after a SIGKILL of lab during up or run, or of dockerd during a run.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { cachedEngine } from '../../src/engines/cache.js';
import { loadLab } from '../../src/lab/load.js';
import { envFor, lab, labSpawn, tempHome } from '../helpers/cli.js';
import { namespacesWithPrefix, rootSnapshot } from '../helpers/host.js';
import { cannotRunHere, testUnless } from '../helpers/e2e.js';

const ENGINE = '26.1';
const reason =
  cannotRunHere() ??
  (cachedEngine(ENGINE) ? undefined : `Docker ${ENGINE} is not cached (node bin/lab.cjs engines --fetch ${ENGINE}; scripts/setup.sh does it)`);
const FIXED_DIRS = ['/run/docker', '/run/containerd'];

interface Run {
  engine?: string;
  variants: Array<{ name: string; verdict: string; matchesExpected: boolean | null }>;
  resultsDir: string;
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function pids(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number);
}

function read(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Running (not zombie) processes that are the lab's: by command line (the test's home), cgroup, or namespace inode. */
function labProcesses(home: string, cgroup: string, inodes: Set<number>): string[] {
  return pids().flatMap((pid) => {
    const stat = read(`/proc/${pid}/stat`);
    if (!stat || /^\d+ \(.*\) Z/.test(stat)) return [];
    const cmdline = read(`/proc/${pid}/cmdline`).split('\0').join(' ');
    let ino = 0;
    try {
      ino = Number(/\[(\d+)\]/.exec(fs.readlinkSync(`/proc/${pid}/ns/net`))?.[1]);
    } catch {
      return [];
    }
    const ours = cmdline.includes(home) || read(`/proc/${pid}/cgroup`).includes(`/${cgroup}`) || inodes.has(ino);
    return ours ? [`${pid} ${cmdline.slice(0, 120)}`] : [];
  });
}

/** Inodes of the lab's namespaces (and its copies'), taken while they exist, to find their processes once they are gone. */
async function namespaceInodes(instance: string, into: Set<number>): Promise<void> {
  for (const ns of await namespacesWithPrefix(`lab.docker-1090+${instance}`)) {
    try {
      into.add(fs.statSync(`/run/netns/${ns}`).ino);
    } catch {
      // gone meanwhile
    }
  }
}

/** Everything a real engine could leave behind, empty when the lab is gone. */
async function leftovers(home: string, instance: string, inodes: Set<number>, fixedBefore: string[]) {
  const cgroup = `lab-docker-1090_${instance}`;
  const work = path.join(home, 'home', 'work');
  return {
    namespaces: await namespacesWithPrefix(`lab.docker-1090+${instance}`),
    processes: labProcesses(home, cgroup, inodes),
    mounts: read('/proc/self/mountinfo')
      .split('\n')
      .filter((l) => l.includes(home)),
    folders: fs.existsSync(work) ? fs.readdirSync(work) : [],
    // cgroup v2 keeps them at the root, v1 under each controller
    cgroups: ['', ...(fs.existsSync('/sys/fs/cgroup') ? fs.readdirSync('/sys/fs/cgroup') : [])].flatMap((h) => {
      const dir = path.join('/sys/fs/cgroup', h);
      return fs.existsSync(dir) && fs.statSync(dir).isDirectory() ? fs.readdirSync(dir).filter((d) => d.startsWith(cgroup)) : [];
    }),
    fixedDirs: FIXED_DIRS.filter((d) => fs.existsSync(d) && !fixedBefore.includes(d)),
    states: fs.existsSync(path.join(home, 'home', 'state')) ? fs.readdirSync(path.join(home, 'home', 'state')).filter((f) => f.endsWith('.json')) : [],
  };
}

const nothing = { namespaces: [], processes: [], mounts: [], folders: [], cgroups: [], fixedDirs: [], states: [] };

function setup(t: ExecutionContext, instance: string) {
  const home = tempHome('lab-engine-');
  const env = envFor(home);
  const fixedBefore = FIXED_DIRS.filter((d) => fs.existsSync(d));
  const inodes = new Set<number>();
  t.teardown(async () => {
    await lab(['down', 'docker-1090', '--instance', instance], env);
  });
  const statePath = path.join(home, 'home', 'state', `docker-1090+${instance}.json`);
  const state = () => JSON.parse(read(statePath) || '{}') as { status?: string; resources?: { engines?: Record<string, { pid?: number; version?: string }> } };
  return { home, env, fixedBefore, inodes, state };
}

testUnless(reason, `docker-1090 on a real Docker ${ENGINE}, a copy per variant: every verdict as expected, the engine named, nothing left`, async (t) => {
  const { home, env, fixedBefore, inodes } = setup(t, 'eng');
  const before = await rootSnapshot();
  const child = labSpawn(['run', 'docker-1090', '--instance', 'eng', '--docker', ENGINE, '--json', '--check'], env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setInterval(() => void namespaceInodes('eng', inodes), 200);
    child.once('exit', (c) => {
      clearInterval(timer);
      resolve(c);
    });
  });
  t.is(code, 0, stderr.slice(-2000));
  const run = JSON.parse(stdout) as Run;
  t.regex(
    run.engine ?? '',
    new RegExp(
      `^Docker ${ENGINE.replace('.', '\\.')}\\.\\d+\\S* \\(real dockerd, Debian's ${ENGINE.replace('.', '\\.')}, data root \\d+\\.\\d MB \\(bound \\d+ MB\\)\\) on client$`,
    ),
  );
  t.is(run.variants.length, loadLab('docker-1090').variants.length, 'every variant ran');
  for (const v of run.variants) t.true(v.matchesExpected, `${v.name}: ${v.verdict}`);
  t.true(inodes.size > 0, 'the namespaces were seen while the run went on');
  t.deepEqual(await leftovers(home, 'eng', inodes, fixedBefore), nothing);
  t.is(await rootSnapshot(), before);
});

testUnless(reason, `SIGKILL of lab while it brings Docker ${ENGINE} up, then lab down: nothing is left`, async (t) => {
  const { home, env, fixedBefore, inodes, state } = setup(t, 'eng2');
  const child = labSpawn(['up', 'docker-1090', '--instance', 'eng2', '--docker', ENGINE], env);
  const exited = new Promise((r) => child.once('exit', r));
  await waitFor('dockerd to start', () => state().resources?.engines?.client?.pid !== undefined);
  child.kill('SIGKILL');
  await exited;
  await namespaceInodes('eng2', inodes);
  t.true(
    labProcesses(home, 'lab-docker-1090_eng2', inodes).some((p) => p.includes('dockerd')),
    'dockerd outlived the killed lab, as after a crash',
  );
  const down = await lab(['down', 'docker-1090', '--instance', 'eng2'], env);
  t.is(down.code, 0, down.stderr);
  t.deepEqual(await leftovers(home, 'eng2', inodes, fixedBefore), nothing);
});

testUnless(reason, `SIGKILL of lab in the middle of a run on Docker ${ENGINE} (a copy per variant), then lab down: nothing is left`, async (t) => {
  const { home, env, fixedBefore, inodes } = setup(t, 'eng');
  const child = labSpawn(['run', 'docker-1090', '--instance', 'eng', '--docker', ENGINE, '--json'], env);
  const exited = new Promise((r) => child.once('exit', r));
  const agents = () => labProcesses(home, 'lab-docker-1090_eng', new Set()).filter((p) => p.includes('oow_server.py'));
  await waitFor('agents to start', () => agents().length > 0);
  await namespaceInodes('eng', inodes);
  child.kill('SIGKILL');
  await exited;
  t.true(
    labProcesses(home, 'lab-docker-1090_eng', inodes).some((p) => p.includes('dockerd')),
    'dockerd outlived the killed lab',
  );
  const down = await lab(['down', 'docker-1090', '--instance', 'eng'], env);
  t.is(down.code, 0, down.stderr);
  t.deepEqual(await leftovers(home, 'eng', inodes, fixedBefore), nothing);
});

testUnless(reason, `SIGKILL of dockerd in the middle of a run: INCONCLUSIVE of kind error, and lab down leaves nothing`, async (t) => {
  const { home, env, fixedBefore, inodes, state } = setup(t, 'eng2');
  const up = await lab(['up', 'docker-1090', '--instance', 'eng2', '--docker', ENGINE], env);
  t.is(up.code, 0, up.stderr);
  await namespaceInodes('eng2', inodes);
  const daemon = state().resources!.engines!.client!.pid!;
  const child = labSpawn(['run', 'docker-1090', '--instance', 'eng2', '--json'], env);
  let stdout = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  const agents = () => labProcesses(home, 'none', inodes).filter((p) => p.includes('oow_server.py'));
  await waitFor('agents to start', () => agents().length > 0);
  process.kill(daemon, 'SIGKILL');
  t.is(await exited, 1, 'an INCONCLUSIVE verdict exits 1');
  const run = JSON.parse(stdout) as Run;
  const lost = run.variants.filter((v) => v.verdict === 'INCONCLUSIVE');
  t.true(lost.length > 0);
  for (const v of lost) {
    const evidence = JSON.parse(read(path.join(run.resultsDir, v.name, 'evidence.json'))) as { inconclusive?: string; reason: string };
    t.is(evidence.inconclusive, 'error');
    t.regex(
      evidence.reason,
      new RegExp(`^no verdict from this run: Docker ${ENGINE.replace('.', '\\.')}\\S*'s daemon on client \\(process ${daemon}\\) is no longer running`),
    );
  }
  const down = await lab(['down', 'docker-1090', '--instance', 'eng2'], env);
  t.is(down.code, 0, down.stderr);
  t.deepEqual(await leftovers(home, 'eng2', inodes, fixedBefore), nothing);
});
