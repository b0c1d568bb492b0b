/** `lab status` reads a lab's kernel and engine from its state, and lists every state, also one of a provider it lacks. */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { envFor, lab, tempHome } from '../helpers/cli.js';

const home = tempHome();
const env = envFor(home);

function writeState(id: string, fields: Record<string, unknown>): void {
  const dir = path.join(env.LAB_HOME!, 'state');
  fs.mkdirSync(dir, { recursive: true });
  const [name, instance] = id.split('@')[0]!.split('+');
  const state = { lab: id, name, instance, file: '/nowhere/lab.yaml', status: 'up', createdAt: '2026-01-01T00:00:00.000Z', ...fields };
  fs.writeFileSync(path.join(dir, `${id}.json`), JSON.stringify(state));
}

test.before(() => {
  // Made-up instances whose namespaces do not exist: describe finds none of them, and nothing is changed.
  writeState('docker-1090+stat1@5-10', { provider: 'netns', kernel: '5.10', engine: 'emulated on client', resources: { namespaces: [] } });
  writeState('docker-1090+stat2', { provider: 'netns', resources: { namespaces: [] } });
  writeState('docker-1090+stat3', { provider: 'elsewhere', resources: {} });
});

test("the kernel and the engine come from the state's own fields", async (t) => {
  const all = await lab(['status'], env);
  t.is(all.code, 0, all.stderr);
  const first = all.stdout.slice(all.stdout.indexOf('docker-1090+stat1@5-10'), all.stdout.indexOf('docker-1090+stat2'));
  t.regex(first, /^ +kernel 5\.10$/m);
  t.regex(first, /^ +Docker: emulated on client$/m);
  const onGuest = await lab(['status', '--kernel', '5.10'], env);
  t.regex(onGuest.stdout, /docker-1090\+stat1@5-10/);
  t.notRegex(onGuest.stdout, /stat2|stat3/);
  const onHost = await lab(['status', '--kernel', 'host'], env);
  t.regex(onHost.stdout, /docker-1090\+stat2 /);
  t.notRegex(onHost.stdout, /stat1/);
});

test('a state of a provider this build lacks is listed with a note, and the others still are', async (t) => {
  const all = await lab(['status'], env);
  t.is(all.code, 0, all.stderr);
  t.regex(all.stdout, /docker-1090\+stat3 +up +elsewhere/);
  t.regex(all.stdout, /provider elsewhere is not one of this build's: netns, /);
  t.regex(all.stdout, /docker-1090\+stat2 /);
});
