import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { loadLab } from '../../src/lab/load.js';
import { planLab, renderPlan } from '../../src/providers/netns/plan.js';
import { matchesGolden } from '../helpers/golden.js';
import { root } from '../helpers/cli.js';
import { parseCidr, overlaps, hostAddress, formatIp } from '../../src/lab/ip.js';

for (const name of fs.readdirSync(path.join(root, 'labs'))) {
  test(`${name}: resolved topology matches golden`, (t) => {
    const lab = loadLab(name);
    const { file, dir, ...portable } = lab;
    t.true(file.endsWith(path.join(name, 'lab.yaml')));
    t.truthy(dir);
    matchesGolden(t, path.join('golden', `${name}.resolved.json`), `${JSON.stringify(portable, null, 2)}\n`);
  });

  test(`${name}: netns plan matches golden`, (t) => {
    matchesGolden(t, path.join('golden', `${name}.netns-plan.txt`), renderPlan(planLab(loadLab(name))));
  });
}

test('every netns command runs inside a lab namespace or only adds one', (t) => {
  for (const name of fs.readdirSync(path.join(root, 'labs'))) {
    for (const step of planLab(loadLab(name)).steps) {
      for (const c of step.commands) {
        const scoped = (c.argv[1] === '-n' || (c.argv[1] === 'netns' && c.argv[2] === 'exec')) && c.argv.some((a) => a.startsWith(`lab.${name}.`));
        const adds = c.argv.join(' ').startsWith(`ip netns add lab.${name}.`);
        t.true(scoped || adds, c.argv.join(' '));
      }
    }
  }
});

test('address arithmetic', (t) => {
  t.deepEqual(parseCidr('10.0.1.0/24'), { network: 167772416, prefix: 24 });
  t.is(parseCidr('10.0.1.1/24'), undefined, 'host bits set');
  t.is(parseCidr('10.0.1.0/33'), undefined);
  t.is(parseCidr('300.0.1.0/24'), undefined);
  t.true(overlaps(parseCidr('10.0.0.0/16')!, parseCidr('10.0.5.0/24')!));
  t.false(overlaps(parseCidr('10.0.0.0/24')!, parseCidr('10.0.1.0/24')!));
  t.is(formatIp(hostAddress(parseCidr('10.0.1.0/30')!, 2)!), '10.0.1.2');
  t.is(hostAddress(parseCidr('10.0.1.0/30')!, 3), undefined, 'broadcast is not a host');
});
