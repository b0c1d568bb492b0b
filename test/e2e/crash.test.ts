/** A run killed with SIGKILL leaves state behind; `lab down` must remove all of it. Ctrl-C cleans up by itself. */
import type { ExecutionContext } from 'ava';
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

/**
 * Both ways a run uses namespaces: `--serial` (one copy of the lab, variants in turn) and the default when run brings the
 * lab up itself, a copy per variant (`<lab>+v1`, `<lab>+v2`, ...). Names are matched for the lab and all its copies.
 */
const modes = [
  { mode: 'serial', args: ['--serial'] },
  { mode: 'a copy per variant', args: [] },
];
const ownNamespaces = (lab: string) =>
  namespacesWithPrefix(`lab.${lab}`).then((all) => all.filter((n) => n.startsWith(`lab.${lab}.`) || n.startsWith(`lab.${lab}+v`)));
const ownWork = (home: string, lab: string) => `${home}/home/work/${lab}(\\+v[0-9]+)?/`;
const stateDir = (home: string) => path.join(home, 'home', 'state');
const upState = (home: string, lab: string): string | undefined => {
  const file = path.join(stateDir(home), `${lab}.json`);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { status?: string }).status : undefined;
};
const stateFiles = (home: string, lab: string) => {
  const dir = stateDir(home);
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f === `${lab}.json` || f.startsWith(`${lab}+v`)) : [];
};

/** A copy of docker-1090 named `name` in a home of its own, taken down after the test however it ends. */
function ownCopy(t: ExecutionContext, name: string) {
  const home = tempHome();
  const env = envFor(home);
  const file = labCopy('docker-1090', name, home);
  t.teardown(async () => {
    await lab(['down', file], env);
  });
  return { home, env, file };
}

for (const { mode, args } of modes) {
  testUnless(reason, `SIGKILL in the middle of a run (${mode}), then lab down: nothing of the lab is left`, async (t) => {
    const name = `crash-${args.length ? 's' : 'c'}`;
    const { home, env, file } = ownCopy(t, name);
    const before = await rootSnapshot();
    const child = labSpawn(['run', file, '--json', ...args], env);
    const exited = new Promise((r) => child.once('exit', r));
    // Wait until agents run inside the lab, so there are processes, captures and files to leave behind.
    await waitFor('agents to start', async () => (await processesMatching(`${ownWork(home, name)}.*oow_server.py`)).length > 0);
    child.kill('SIGKILL');
    await exited;
    t.true((await ownNamespaces(name)).length > 0, 'the kill left namespaces behind, as a crash would');

    const down = await lab(['down', file], env);
    t.is(down.code, 0, down.stderr);
    t.deepEqual(await ownNamespaces(name), []);
    t.deepEqual(await processesMatching(ownWork(home, name)), []);
    const work = path.join(home, 'home', 'work');
    t.deepEqual(fs.existsSync(work) ? fs.readdirSync(work).filter((d) => d === name || d.startsWith(`${name}+v`)) : [], []);
    t.deepEqual(stateFiles(home, name), []);
    t.is(await rootSnapshot(), before);
  });

  testUnless(reason, `Ctrl-C (SIGINT) during lab run (${mode}) removes the lab before exiting`, async (t) => {
    const name = `sigint-${args.length ? 's' : 'c'}`;
    const { home, env, file } = ownCopy(t, name);
    const before = await rootSnapshot();
    const child = labSpawn(['run', file, ...args], env);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await waitFor('agents to start', async () => (await processesMatching(`${ownWork(home, name)}.*oow_server.py`)).length > 0);
    child.kill('SIGINT');
    t.is(await exited, 130);
    t.deepEqual(await ownNamespaces(name), []);
    t.deepEqual(await processesMatching(ownWork(home, name)), []);
    t.deepEqual(stateFiles(home, name), []);
    t.is(await rootSnapshot(), before);
  });
}

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

testUnless(reason, 'Ctrl-C at any moment of lab up: the step under way finishes, then everything it created is removed', async (t) => {
  t.timeout(5 * 60_000);
  const name = 'crash-up';
  const { home, env, file } = ownCopy(t, name);
  const before = await rootSnapshot();
  const codes: Array<number | null> = [];
  // The signal comes once a step has started (its progress line), after a short delay: inside every step of lab up.
  for (const step of ['Record state', 'Create'])
    for (const delayMs of [0, 10, 20, 30, 40, 60, 80, 100]) {
      const child = labSpawn(['up', file], env);
      let stderr = '';
      const exited = new Promise<number | null>((r) => child.once('exit', r));
      // The step's progress line is caught as it is written, not by polling: lab up takes a fifth of a second here.
      const started = new Promise<void>((resolve) => {
        child.stderr!.on('data', (d: Buffer) => {
          stderr += d.toString();
          if (stderr.includes(`❯ ${step}`)) resolve();
        });
        child.once('exit', () => resolve());
      });
      await started;
      await new Promise((r) => setTimeout(r, delayMs));
      child.kill(delayMs % 20 === 0 ? 'SIGINT' : 'SIGTERM');
      const code = await exited;
      codes.push(code);
      const when = `signal ${delayMs} ms into "${step}" (exit ${code})`;
      if (code === 0 || (code === null && upState(home, name) === 'up')) {
        // lab up had finished (and, with no cleanup left to run, the signal ended the process as it would any program).
        t.is((await lab(['down', file], env)).code, 0);
        continue;
      }
      t.is(code, 130, when);
      t.deepEqual(await ownNamespaces(name), [], when);
      t.deepEqual(stateFiles(home, name), [], when);
      t.deepEqual(await processesMatching(ownWork(home, name)), [], when);
    }
  const interrupted = codes.filter((c) => c === 130).length;
  t.log(`${interrupted} of ${codes.length} lab up interrupted before they finished`);
  t.true(interrupted >= 6, 'enough signals came while lab up was working');
  t.is(await rootSnapshot(), before);
});
