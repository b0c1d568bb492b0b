/**
 * Taking a netns lab down on the real kernel: every namespace of the lab goes with its links and the processes inside
 * it, whatever an earlier up or down left half done; nothing else is touched; `lab down <file>` finds the lab by its
 * state without reading the file.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { removeNamespaces } from '../../src/providers/netns/namespaces.js';
import { envFor, lab, sh, tempHome } from '../helpers/cli.js';
import { namespacesWithPrefix, rootSnapshot } from '../helpers/host.js';
import { cannotRunHere, testUnless } from '../helpers/e2e.js';

const reason = cannotRunHere();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A process inside the namespace that would outlive the test unless killed; its pid once it runs there. */
async function sleeperIn(ns: string): Promise<number> {
  const child = spawn('ip', ['netns', 'exec', ns, 'sleep', '600'], { stdio: 'ignore', detached: true });
  child.unref();
  const pid = child.pid!;
  const netns = fs.statSync(path.join('/run/netns', ns)).ino;
  for (let i = 0; i < 100; i++) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/ns/net`) === `net:[${netns}]`) return pid;
    } catch {
      // not started yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`sleep did not start in ${ns}`);
}

testUnless(reason, 'removeNamespaces deletes the namespaces with their veths and processes, and nothing else', async (t) => {
  const prefix = 'lab.down-real+t1.';
  const [a, b, gone] = ['a', 'b', 'never-made'].map((n) => `${prefix}${n}`) as [string, string, string];
  const bystander = 'lab.down-real+t2.c';
  const before = await rootSnapshot();
  let pid: number | undefined;
  try {
    await sh('ip', ['netns', 'add', a]);
    await sh('ip', ['netns', 'add', b]);
    await sh('ip', ['netns', 'add', bystander]);
    await sh('ip', ['link', 'add', 'dr-a', 'netns', a, 'type', 'veth', 'peer', 'name', 'dr-b', 'netns', b]);
    pid = await sleeperIn(a);

    // One name never created (a half-finished up) or already deleted (a half-finished down) does not stop the rest.
    await removeNamespaces([a, gone, b]);

    t.deepEqual(await namespacesWithPrefix(prefix), []);
    t.deepEqual(await namespacesWithPrefix(bystander), [bystander], 'a namespace outside the list is left alone');
    t.false(alive(pid), 'the process inside the namespace was killed');
    t.is(await rootSnapshot(), before, 'the root namespace is unchanged');
  } finally {
    if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
    for (const ns of [a, b, bystander]) await sh('ip', ['netns', 'delete', ns]).catch(() => undefined);
  }
});

testUnless(reason, 'removeNamespaces of an empty list or of names all gone does nothing and does not fail', async (t) => {
  await t.notThrowsAsync(removeNamespaces([]));
  await t.notThrowsAsync(removeNamespaces(['lab.down-real+t3.never-made']));
});

testUnless(reason, 'lab down after an up that stopped half way (state creating) removes the namespaces that were made', async (t) => {
  const home = tempHome();
  const env = envFor(home);
  const id = 'down-real-half+t4';
  const prefix = `lab.${id}.`;
  const recorded = ['h1', 'r1', 'h2'].map((n) => `${prefix}${n}`);
  t.teardown(async () => {
    for (const ns of recorded) await sh('ip', ['netns', 'delete', ns]).catch(() => undefined);
  });
  const stateDir = path.join(env.LAB_HOME!, 'state');
  fs.mkdirSync(stateDir, { recursive: true });
  const state = {
    lab: id,
    name: 'down-real-half',
    instance: 't4',
    file: path.join(home, 'no-such-lab.yaml'),
    provider: 'netns',
    status: 'creating',
    createdAt: new Date().toISOString(),
    resources: { namespaces: recorded },
  };
  fs.writeFileSync(path.join(stateDir, `${id}.json`), JSON.stringify(state));
  // The up was stopped after its first two namespaces: the third was never created.
  await sh('ip', ['netns', 'add', recorded[0]!]);
  await sh('ip', ['netns', 'add', recorded[1]!]);

  const down = await lab(['down', 'down-real-half', '--instance', 't4'], env);
  t.is(down.code, 0, down.stderr);
  t.regex(down.stdout, /removed 2 resources of down-real-half\+t4/);
  t.deepEqual(await namespacesWithPrefix(prefix), []);
  t.false(fs.existsSync(path.join(stateDir, `${id}.json`)));
});

const labYaml = (name: string) =>
  [
    `name: ${name}`,
    'title: Three nodes in a line, taken down by the path of their file',
    'upstream: [https://github.com/docker/libnetwork/issues/1090]',
    'description: Only its lifecycle is tested.',
    'addressPool: 10.64.0.0/10',
    'nodes:',
    '  h1: { role: host }',
    '  r1: { role: router }',
    '  h2: { role: host }',
    'links:',
    '  - endpoints: [h1, r1]',
    '  - endpoints: [r1, h2]',
    'scenario:',
    '  kind: oow-rst',
    '  params: { client: h1, server: h2 }',
    'variants:',
    '  baseline: { description: Connectivity across the line. }',
    '',
  ].join('\n');

testUnless(reason, 'lab down <file> takes down the lab brought up from that file by its state; without one it reads the file', async (t) => {
  const home = tempHome();
  const env = envFor(home);
  const dir = path.join(home, 'labs', 'down-by-path');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'lab.yaml');
  fs.writeFileSync(file, labYaml('down-real-path'));
  const prefix = 'lab.down-real-path+t5.';
  t.teardown(async () => {
    for (const ns of await namespacesWithPrefix(prefix)) await sh('ip', ['netns', 'delete', ns]).catch(() => undefined);
  });
  const up = await lab(['up', file, '--instance', 't5'], env);
  t.is(up.code, 0, up.stderr);
  t.is((await namespacesWithPrefix(prefix)).length, 3);

  // The file changed since the up (here: it no longer parses); the state still says which lab came from it.
  fs.writeFileSync(file, 'name: [down-real-path\n');
  const down = await lab(['down', file, '--instance', 't5'], env);
  t.is(down.code, 0, down.stderr);
  t.regex(down.stdout, /removed \d+ resources of down-real-path\+t5/);
  t.deepEqual(await namespacesWithPrefix(prefix), []);

  // No state left: the name comes from the file, and a file that does not parse is the user's mistake, said once.
  const again = await lab(['down', file, '--instance', 't5'], env);
  t.is(again.code, 2, again.stderr);
  t.regex(again.stderr, /is not valid YAML/);
  t.notRegex(again.stderr, /\n\s+at /, 'no stack trace');
});
