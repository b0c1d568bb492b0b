/** Declared scenarios: every bad lab file gets the exact error text stored beside it; the declared labs and the skeleton are valid. */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { lab, root, tempHome } from '../helpers/cli.js';
import { matchesGolden } from '../helpers/golden.js';
import { substitute } from '../../src/lab/declared/substitute.js';
import type { Problem } from '../../src/lab/problems.js';

const dir = path.join(root, 'test', 'fixtures', 'declarative', 'invalid');
const cases = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'));

for (const file of cases) {
  test(`rejects ${file}`, async (t) => {
    const result = await lab(['validate', path.join('test', 'fixtures', 'declarative', 'invalid', file)]);
    t.is(result.code, 2);
    t.is(result.stdout, '');
    t.notRegex(result.stderr, /internal error|\n\s+at .*:\d+:\d+\)/);
    matchesGolden(t, path.join('declarative', 'invalid', file.replace(/\.yaml$/, '.expected.txt')), result.stderr);
  });
}

test('the declared labs are valid', async (t) => {
  for (const name of ['moby-15127-declared', 'udp-stale-dnat']) {
    const result = await lab(['validate', name]);
    t.is(result.code, 0, result.stderr);
  }
});

test('lab new writes a skeleton that validates, and refuses to overwrite it', async (t) => {
  const home = tempHome();
  const first = await lab(['new', 'my-bug', '--dir', home]);
  t.is(first.code, 0, first.stderr);
  t.regex(first.stdout, /my-bug\/lab\.yaml \(valid\)/);
  t.is((await lab(['validate', path.join(home, 'my-bug')])).code, 0);
  const again = await lab(['new', 'my-bug', '--dir', home]);
  t.is(again.code, 2);
  t.regex(again.stderr, /exists already/);
  t.is((await lab(['new', 'My_Bug', '--dir', home])).code, 2);
});

test('lab new without --dir writes ./<name>/lab.yaml in the current folder, not into the package', async (t) => {
  const home = tempHome();
  const made = await lab(['new', 'here-bug'], process.env, 60_000, home);
  t.is(made.code, 0, made.stderr);
  t.true(fs.existsSync(path.join(home, 'here-bug', 'lab.yaml')));
  t.false(fs.existsSync(path.join(root, 'labs', 'here-bug')));
  t.is((await lab(['validate', 'here-bug'], process.env, 60_000, home)).code, 0);
});

test('a filter is compiled by tcpdump: the whole pcap-filter language passes, and what tcpdump refuses is an error with its words', async (t) => {
  const refused = await lab(['validate', path.join('test', 'fixtures', 'declarative', 'filters-tcpdump-refuses.yaml')]);
  t.is(refused.code, 2);
  t.regex(refused.stderr, /2 capture filter\(s\) tcpdump cannot compile/);
  t.regex(refused.stderr, /"udp port 53 -w \/etc\/passwd": tcpdump says .*syntax error \(variant baseline\)/);
  t.regex(refused.stderr, /"udp; reboot": tcpdump says .*\(variant baseline\)/);
  t.is((await lab(['validate', 'large-download'])).code, 0, 'large-download uses tcp[tcpflags] & tcp-rst != 0');
});

test('a whole-value placeholder keeps its type; inside a text it is spliced in', (t) => {
  const problems: Problem[] = [];
  const names = { port: 53, 'a.address': '10.0.0.1' };
  const out = substitute({ port: '${port}', filter: 'udp port ${port} and host ${a.address}', list: ['${port}'] }, names, [], problems);
  t.deepEqual(out, { port: 53, filter: 'udp port 53 and host 10.0.0.1', list: [53] });
  t.deepEqual(problems, []);
  substitute('x ${obj}', { obj: { a: 1 } }, ['p'], problems);
  t.deepEqual(problems, [{ path: ['p'], message: '${obj} is a mapping; inside a text only numbers, words and booleans can be substituted' }]);
});
