/** Every bad lab file is rejected with the exact error text stored beside it, exit 2, no stack trace. */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { lab, root } from '../helpers/cli.js';
import { matchesGolden } from '../helpers/golden.js';

const dir = path.join(root, 'test', 'fixtures', 'invalid');
const cases = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'));

test('there are invalid-lab cases to check', (t) => {
  t.true(cases.length >= 10);
});

for (const file of cases) {
  test(`rejects ${file}`, async (t) => {
    const result = await lab(['validate', path.join('test', 'fixtures', 'invalid', file)]);
    t.is(result.code, 2);
    t.is(result.stdout, '');
    t.notRegex(result.stderr, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace');
    t.notRegex(result.stderr, /internal error/);
    matchesGolden(t, path.join('invalid', file.replace(/\.yaml$/, '.expected.txt')), result.stderr);
  });
}

test('a lab that does not exist gets a hint, not a trace', async (t) => {
  const result = await lab(['up', 'no-such-lab']);
  t.is(result.code, 2);
  t.is(result.stderr, 'error: no lab "no-such-lab"\nhint: run "lab list" for the labs in labs, or give a path to a lab.yaml\n');
});

test('an unknown command is a usage error', async (t) => {
  const result = await lab(['upp', 'docker-1090']);
  t.is(result.code, 2);
  t.regex(result.stderr, /Unknown argument|Did you mean/);
});

test('the labs in labs/ are all valid', async (t) => {
  for (const name of fs.readdirSync(path.join(root, 'labs'))) {
    const result = await lab(['validate', name]);
    t.is(result.code, 0, `${name}: ${result.stderr}`);
  }
});
