import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { copiesAtOnce, copiesFit, copyInstance, copyOf, leftoverCopies, COPY_MEMORY_BYTES } from '../../src/run/variant-copies.js';
import { writeState } from '../../src/state.js';
import type { ResolvedLab } from '../../src/lab/model.js';

const lab = (instance?: string) =>
  ({ name: 'docker-1090', id: instance ? `docker-1090+${instance}` : 'docker-1090', ...(instance ? { instance } : {}) }) as ResolvedLab;

test('copies are instances named after the run and the variant position', (t) => {
  t.is(copyInstance(undefined, 0), 'v1');
  t.is(copyInstance('ws3', 1), 'ws3-v2');
  t.like(copyOf(lab('ws3'), 3), { id: 'docker-1090+ws3-v4', instance: 'ws3-v4', name: 'docker-1090' });
});

test('a copy whose instance name would break the rules keeps the run serial', (t) => {
  t.true(copiesFit(lab(), 4));
  t.true(copiesFit(lab('abcdefghijklm'), 9));
  t.false(copiesFit(lab('abcdefghijklm'), 10));
  t.false(copiesFit(lab('abcdefghijklmnop'), 2));
});

test('copies at once: bounded by cores, by available memory, and by the variants', (t) => {
  t.is(copiesAtOnce(4, { cores: 2, freeBytes: 64 * 2 ** 30 }), 4);
  t.is(copiesAtOnce(10, { cores: 2, freeBytes: 64 * 2 ** 30 }), 8);
  t.is(copiesAtOnce(4, { cores: 8, freeBytes: 3 * COPY_MEMORY_BYTES }), 3);
  t.is(copiesAtOnce(4, { cores: 8, freeBytes: COPY_MEMORY_BYTES / 2 }), 1);
});

test('lab down finds the copies a crashed run left by their state, and only those of its instance', (t) => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-copies-'));
  const previous = process.env.LAB_HOME;
  process.env.LAB_HOME = home;
  try {
    const state = (id: string) =>
      writeState({ lab: id, name: 'docker-1090', file: 'x', provider: 'netns', status: 'creating', createdAt: 'now', resources: {} });
    ['docker-1090+v1', 'docker-1090+v12', 'docker-1090+ws1', 'docker-1090+ws1-v2', 'docker-1090+vx', 'moby-15127+v1'].forEach(state);
    t.deepEqual(leftoverCopies('docker-1090', undefined), ['docker-1090+v1', 'docker-1090+v12']);
    t.deepEqual(leftoverCopies('docker-1090', 'ws1'), ['docker-1090+ws1-v2']);
    t.deepEqual(leftoverCopies('moby-15127', 'ws1'), []);
  } finally {
    if (previous === undefined) delete process.env.LAB_HOME;
    else process.env.LAB_HOME = previous;
    fs.rmSync(home, { recursive: true, force: true });
  }
});
