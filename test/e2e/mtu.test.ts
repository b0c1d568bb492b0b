/** `mtu:` on links: validated, planned, applied for real in the namespaces, shown, and checked on existing hosts. */
import test from 'ava';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { envFor, lab, root, tempHome } from '../helpers/cli.js';
import { cannotRunHere, testUnless } from '../helpers/e2e.js';
import { loadLab } from '../../src/lab/load.js';
import { mtuProblems } from '../../src/providers/ssh/index.js';

const fixture = path.join(root, 'test', 'fixtures', 'mtu');
const linkMtu = (ns: string, dev: string) => /mtu (\d+)/.exec(execFileSync('ip', ['-n', ns, '-o', 'link', 'show', dev], { encoding: 'utf8' }))?.[1];

test('a link MTU applies to both ends, a per-end MTU to that end only', (t) => {
  const lab = loadLab(fixture);
  const mtuOf = (node: string, iface: string) => lab.nodes.find((n) => n.name === node)!.interfaces.find((i) => i.name === iface)!.mtu;
  t.is(mtuOf('client', 'eth0'), 9000);
  t.is(mtuOf('router', 'eth0'), undefined, 'the other end of a per-end MTU keeps the default');
  t.is(mtuOf('router', 'eth1'), 1400);
  t.is(mtuOf('server', 'eth0'), 1400);
});

test('an MTU out of range or on a node that is not an endpoint is an error naming the link', async (t) => {
  const home = tempHome();
  const fs = await import('node:fs');
  const original = fs.readFileSync(path.join(fixture, 'lab.yaml'), 'utf8');
  const validate = async (text: string) => {
    fs.writeFileSync(path.join(home, 'lab.yaml'), text);
    return lab(['validate', path.join(home, 'lab.yaml')]);
  };
  const small = await validate(original.replace('mtu: 1400', 'mtu: 40'));
  t.is(small.code, 2);
  t.regex(small.stderr, /lab\.yaml:\d+:\d+ links\[1\]\.mtu: found 40, expected a number >= 68/);
  const stranger = await validate(original.replace('mtu: { client: 9000 }', 'mtu: { server: 9000 }'));
  t.is(stranger.code, 2);
  t.regex(stranger.stderr, /links\[0\]\.mtu\.server: found "server", expected an endpoint of this link \(client, router\)/);
});

test('on existing hosts (ssh) an MTU is checked, not set', (t) => {
  const iface = { name: 'eth0', address: '10.0.0.2', prefix: 24, mtu: 1400 };
  const addrs = '2: ens3    inet 10.0.0.2/24 brd 10.0.0.255 scope global ens3\\       valid_lft forever';
  t.deepEqual(mtuProblems('server', [iface], addrs, '2: ens3: <BROADCAST,UP> mtu 1400 qdisc fq state UP'), []);
  t.deepEqual(mtuProblems('server', [iface], addrs, '2: ens3: <BROADCAST,UP> mtu 1500 qdisc fq state UP'), [
    "server: expected MTU 1400 on ens3 (the lab's eth0), found 1500",
  ]);
});

testUnless(cannotRunHere(), 'lab up sets each MTU in the namespaces, and traffic crosses the narrow hop', async (t) => {
  const env = envFor(tempHome());
  t.teardown(async () => {
    await lab(['down', fixture, '--instance', 'mtu'], env);
  });
  const up = await lab(['up', fixture, '--instance', 'mtu'], env);
  t.is(up.code, 0, up.stderr);
  const ns = (node: string) => `lab.mtu-hop+mtu.${node}`;
  t.is(linkMtu(ns('client'), 'eth0'), '9000');
  t.is(linkMtu(ns('router'), 'eth0'), '1500');
  t.is(linkMtu(ns('router'), 'eth1'), '1400');
  t.is(linkMtu(ns('server'), 'eth0'), '1400');
  const run = await lab(['run', fixture, '--instance', 'mtu', '--json', '--check'], env);
  t.is(run.code, 0, run.stderr);
  t.is((JSON.parse(run.stdout) as { variants: Array<{ verdict: string }> }).variants[0]!.verdict, 'NOT_REPRODUCED');
});
