/** Racing commands: one wins, the others name the holder; a lock left by a dead or reused pid is taken over. */
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { envFor, lab, root, sh, tempHome } from '../helpers/cli.js';
import { acquireLabLock, lockHolder, lockPath, processStart, releaseLabLock } from '../../src/lock.js';

const lockModule = path.join(root, 'dist', 'src', 'lock.js');

/** Another process that takes the lab's lock and keeps it until killed. */
async function holder(env: NodeJS.ProcessEnv, labId: string, action: string): Promise<ChildProcess> {
  const take = `m.acquireLabLock(${JSON.stringify(labId)}, ${JSON.stringify(action)})`;
  const script = `const m = await import(${JSON.stringify(lockModule)}); ${take}; console.log('held'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => String(d).includes('held') && resolve());
    child.on('exit', (code) => reject(new Error(`holder exited ${code}`)));
  });
  return child;
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.on('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

async function namespacesOf(instance: string): Promise<string[]> {
  return (await sh('ip', ['netns', 'list'])).split('\n').filter((l) => l.includes(`+${instance}`));
}

test('up, run, down and exec against a lab another process is building exit 1 naming that process', async (t) => {
  const env = envFor(tempHome('lab-lock-'));
  const child = await holder(env, 'docker-1090+h-held', 'up');
  try {
    const h = ['--instance', 'h-held'];
    const commands = [
      ['up', 'docker-1090', ...h],
      ['run', 'docker-1090', ...h],
      ['down', 'docker-1090', ...h],
      ['exec', 'docker-1090', 'client', ...h, '--', 'true'],
    ];
    for (const args of commands) {
      const result = await lab(args, env);
      t.is(result.code, 1, args[0]);
      t.regex(result.stderr, new RegExp(`^error: lab docker-1090\\+h-held is busy: process ${child.pid} \\(.*node.*\\) is running "up" on it since `), args[0]);
      t.regex(result.stderr, new RegExp(`hint: .*kill ${child.pid}`));
    }
    t.deepEqual(await namespacesOf('h-held'), [], 'nothing was built next to the holder');
  } finally {
    await killed(child);
  }
  const down = await lab(['down', 'docker-1090', '--instance', 'h-held'], env);
  t.is(down.code, 0, "the killed holder's lock is taken over");
  t.false(fs.existsSync(path.join(env.LAB_HOME!, 'state', 'docker-1090+h-held.lock')), 'and released');
});

test('exec is allowed while another process runs variants (only up and down change the lab)', async (t) => {
  const env = envFor(tempHome('lab-lock-'));
  const child = await holder(env, 'docker-1090+h-runs', 'run');
  try {
    const result = await lab(['exec', 'docker-1090', 'client', '--instance', 'h-runs', '--', 'true'], env);
    t.is(result.code, 1);
    t.regex(result.stderr, /^error: lab docker-1090\+h-runs is not up/);
  } finally {
    await killed(child);
  }
});

test('a lock whose pid is gone, or whose pid now belongs to another process, is stale and taken over', (t) => {
  const previous = process.env.LAB_HOME;
  process.env.LAB_HOME = path.join(tempHome('lab-lock-'), 'home');
  try {
    const file = lockPath('x+stale');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const pid1Start = processStart(1)!;
    t.truthy(pid1Start);
    for (const stale of [
      { pid: 4_194_000, start: '1' },
      { pid: 1, start: `${pid1Start}0` },
    ]) {
      fs.writeFileSync(file, JSON.stringify({ ...stale, command: 'lab up x', action: 'up', since: '2026-01-01T00:00:00Z' }));
      t.is(lockHolder('x+stale'), undefined);
      acquireLabLock('x+stale', 'up');
      t.is(JSON.parse(fs.readFileSync(file, 'utf8')).pid, process.pid);
      releaseLabLock('x+stale');
      t.false(fs.existsSync(file));
    }
    fs.writeFileSync(file, JSON.stringify({ pid: 1, start: pid1Start, command: 'init', action: 'down', since: '2026-01-01T00:00:00Z' }));
    t.is(lockHolder('x+stale')?.pid, 1, 'a live holder (same pid, same start time) is respected');
    t.throws(() => acquireLabLock('x+stale', 'up'), { message: /is busy: process 1 \(init\) is running "down"/ });
  } finally {
    process.env.LAB_HOME = previous;
  }
});

test('two lab up of the same lab and instance at once: one builds it, the other exits 1 and the lab is intact', async (t) => {
  const env = envFor(tempHome('lab-lock-'));
  try {
    const [a, b] = await Promise.all([lab(['up', 'docker-1090', '--instance', 'h-race'], env), lab(['up', 'docker-1090', '--instance', 'h-race'], env)]);
    t.deepEqual([a.code, b.code].sort(), [0, 1], `${a.stderr}\n${b.stderr}`);
    const loser = a.code === 1 ? a : b;
    t.regex(loser.stderr, /^error: lab docker-1090\+h-race (is busy: process \d+ \(.*lab\.cjs up docker-1090 --instance h-race\)|is already up)/);
    t.notRegex(loser.stderr, /Invalid argument|internal error/);
    const exec = await lab(['exec', 'docker-1090', 'client', '--instance', 'h-race', '--', 'ip', '-br', 'addr'], env);
    t.is(exec.code, 0, exec.stderr);
    t.regex(exec.stdout, /10\.10\.1\.2\/24/);
  } finally {
    const down = await lab(['down', 'docker-1090', '--instance', 'h-race'], env);
    t.is(down.code, 0, down.stderr);
  }
  t.deepEqual(await namespacesOf('h-race'), []);
});
