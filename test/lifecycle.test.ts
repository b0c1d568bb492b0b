/**
 * The state protocol is lifecycle's, the same for every provider: the state is written (status creating, with what the
 * provider's down needs) before the provider's first step, each step adds to it, and the lab is marked up after the last,
 * with its kernel and engine; down reads the state and nothing else.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { labUp } from '../src/lifecycle.js';
import { loadCheckedLab } from '../src/checked-lab.js';
import { readState, type LabState } from '../src/state.js';
import type { Provider } from '../src/providers/types.js';
import { tempHome } from './helpers/cli.js';

type FakeResources = { made: string[]; extra?: number };

process.env.LAB_HOME = tempHome();

function fakeProvider(seen: Array<LabState | undefined>, fail = false): Provider<FakeResources> {
  return {
    name: 'fake',
    ownsHosts: false,
    preflight: async () => [],
    resourcesOf: () => ({ made: ['one'] }),
    upSteps: (lab, record) => [
      { title: 'first', run: async () => void seen.push(readState(lab.id)) },
      {
        title: 'second',
        run: async () => {
          record({ extra: 7 });
          seen.push(readState(lab.id));
          if (fail) throw new Error('the second step broke');
        },
      },
    ],
    down: async (labId, state) => {
      seen.push(state);
      return { removed: (state?.resources.made ?? []).map((m) => `${labId}: ${m}`) };
    },
    transport: () => {
      throw new Error('not here');
    },
    engine: () => 'emulated on client',
    describe: async () => [],
  };
}

test.serial('up: recorded as creating before the first step, added to by a step, marked up with kernel and engine', async (t) => {
  const lab = { ...loadCheckedLab('docker-1090', 'lifecycle'), kernel: '5.10' };
  const seen: Array<LabState | undefined> = [];
  await labUp(lab, fakeProvider(seen), { quiet: true });
  t.like(seen[0], { lab: lab.id, provider: 'fake', status: 'creating', kernel: '5.10', resources: { made: ['one'] } });
  t.is(seen[0]?.engine, undefined, 'the engine is known once the lab is up');
  t.deepEqual(seen[1]?.resources, { made: ['one'], extra: 7 });
  t.like(readState(lab.id), { status: 'up', kernel: '5.10', engine: 'emulated on client', resources: { made: ['one'], extra: 7 } });
  t.true(fs.existsSync(path.join(process.env.LAB_HOME!, 'work', lab.id)), 'the work folder is made before the first step');
});

test.serial('a failed step: the lab is taken down by the provider its state names, and the state is gone', async (t) => {
  const lab = loadCheckedLab('docker-1090', 'lifecycle2');
  const seen: Array<LabState | undefined> = [];
  // Named netns, so that down finds it in the registry: its down looks for this instance's namespaces (there are none).
  const provider = { ...fakeProvider(seen, true), name: 'netns' };
  const failed = await t.throwsAsync(labUp(lab, provider, { quiet: true }));
  t.regex(failed?.message ?? '', /lab up docker-1090\+lifecycle2 failed; everything it created was removed/);
  t.like(seen[1], { status: 'creating', provider: 'netns', resources: { made: ['one'], extra: 7 } });
  t.is(readState(lab.id), undefined);
  t.false(fs.existsSync(path.join(process.env.LAB_HOME!, 'work', lab.id)), 'the work folder went with it');
});
