/** Variants as products of axes: the resolved variants (golden) and what `lab show` lists. */
import test from 'ava';
import path from 'node:path';
import { loadLab } from '../../src/lab/load.js';
import { lab, root } from '../helpers/cli.js';
import { matchesGolden } from '../helpers/golden.js';

const fixture = path.join(root, 'test', 'fixtures', 'combinations', 'udp-modes.yaml');

test('a combination resolves to one variant per value of each axis, listed variants first', (t) => {
  const resolved = loadLab(fixture);
  t.deepEqual(
    resolved.variants.map((v) => v.name),
    ['tcp', 'any-plain', 'any-rpf', 'bound-plain', 'bound-rpf', 'pktinfo-plain', 'pktinfo-rpf'],
  );
  const rpf = resolved.variants.find((v) => v.name === 'bound-rpf')!;
  t.is(rpf.params.mode, 'bind-address', 'params from the mode axis');
  t.deepEqual(rpf.changes, [{ node: 'host', sysctl: { key: 'net.ipv4.conf.all.rp_filter', value: '1' } }], 'changes from the side axis');
  t.is(rpf.params.port, 56789, "merged over the scenario's params");
  t.deepEqual(
    rpf.expect.map((e) => e.kernel),
    ['<6.1', '>=6.1'],
  );
  t.deepEqual(resolved.variants.find((v) => v.name === 'pktinfo-plain')!.expect, []);
  matchesGolden(t, path.join('combinations', 'udp-modes.variants.json'), `${JSON.stringify(resolved.variants, null, 2)}\n`);
});

test('lab show lists the variants a combination makes and their expectations', async (t) => {
  const result = await lab(['show', fixture]);
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /^ {2}bound-rpf: server bound to the uplink address; strict reverse-path filtering on the host$/m);
  t.regex(result.stdout, /^ {4}change on host: sysctl net\.ipv4\.conf\.all\.rp_filter=1$/m);
  t.regex(result.stdout, /^ {2}bound-rpf\s+>=6\.1\s+NOT_REPRODUCED\s+bound to the address written to/m);
  t.regex(result.stdout, /no expectation at all: any-rpf, bound-plain, pktinfo-plain, pktinfo-rpf/);
});
