/** A run killed with SIGKILL leaves state behind; `lab down` must remove all of it. Ctrl-C cleans up by itself. */
import fs from 'node:fs';
import path from 'node:path';
import { envFor, lab, labCopy, labSpawn, tempHome } from '../helpers/cli.js';
import { namespacesWithPrefix, processesMatching, rootSnapshot } from '../helpers/host.js';
import { cannotRunHere, testUnless } from '../helpers/e2e.js';

const reason = cannotRunHere();

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

testUnless(reason, 'SIGKILL in the middle of a run, then lab down: nothing of the lab is left', async (t) => {
  const home = tempHome();
  const env = envFor(home);
  const file = labCopy('docker-1090', 'crash-1090', home);
  t.teardown(async () => {
    await lab(['down', file], env);
  });
  const before = await rootSnapshot();
  const child = labSpawn(['run', file, '--json'], env);
  const exited = new Promise((r) => child.once('exit', r));
  // Wait until agents run inside the lab, so there are processes, captures and files to leave behind.
  await waitFor('agents to start', async () => (await processesMatching(`${home}/home/work/crash-1090/.*oow_server.py`)).length > 0);
  child.kill('SIGKILL');
  await exited;
  t.true((await namespacesWithPrefix('lab.crash-1090.')).length > 0, 'the kill left namespaces behind, as a crash would');

  const down = await lab(['down', file], env);
  t.is(down.code, 0, down.stderr);
  t.deepEqual(await namespacesWithPrefix('lab.crash-1090.'), []);
  t.deepEqual(await processesMatching(`${home}/home/work/crash-1090`), []);
  t.false(fs.existsSync(path.join(home, 'home', 'work', 'crash-1090')));
  t.false(fs.existsSync(path.join(home, 'home', 'state', 'crash-1090.json')));
  t.is(await rootSnapshot(), before);
});

testUnless(reason, 'Ctrl-C (SIGINT) during lab run removes the lab before exiting', async (t) => {
  const home = tempHome();
  const env = envFor(home);
  const file = labCopy('docker-1090', 'sigint-1090', home);
  t.teardown(async () => {
    await lab(['down', file], env);
  });
  const before = await rootSnapshot();
  const child = labSpawn(['run', file], env);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await waitFor('agents to start', async () => (await processesMatching(`${home}/home/work/sigint-1090/.*oow_server.py`)).length > 0);
  child.kill('SIGINT');
  t.is(await exited, 130);
  t.deepEqual(await namespacesWithPrefix('lab.sigint-1090.'), []);
  t.deepEqual(await processesMatching(`${home}/home/work/sigint-1090`), []);
  t.false(fs.existsSync(path.join(home, 'home', 'state', 'sigint-1090.json')));
  t.is(await rootSnapshot(), before);
});

testUnless(reason, "a lab's namespaces left without a state (another LAB_HOME): lab up refuses to build over them, lab down removes them", async (t) => {
  const first = tempHome();
  const second = tempHome();
  const file = labCopy('docker-1090', 'orphan-1090', first);
  t.teardown(async () => {
    await lab(['down', file], envFor(second));
    await lab(['down', file], envFor(first));
  });
  const before = await rootSnapshot();
  const up = await lab(['up', file], envFor(first));
  t.is(up.code, 0, up.stderr);
  const made = await namespacesWithPrefix('lab.orphan-1090.');
  t.true(made.length > 0);

  const again = await lab(['up', file], envFor(second));
  t.is(again.code, 1, again.stderr);
  t.regex(again.stderr, /network namespaces lab\.orphan-1090\.\S+.* already exist/);
  t.regex(again.stderr, /lab down orphan-1090/);
  t.deepEqual(await namespacesWithPrefix('lab.orphan-1090.'), made, 'the refusal touched nothing');
  t.false(fs.existsSync(path.join(second, 'home', 'state', 'orphan-1090.json')));

  const down = await lab(['down', file], envFor(second));
  t.is(down.code, 0, down.stderr);
  t.regex(down.stdout, new RegExp(`removed ${made.length} resources of orphan-1090`));
  t.deepEqual(await namespacesWithPrefix('lab.orphan-1090.'), []);
  t.is((await lab(['down', file], envFor(first))).code, 0);
  t.is(await rootSnapshot(), before);
});
