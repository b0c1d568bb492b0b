/** docker.userlandProxy and docker.bridgeNetfilter: defaults as Docker has them, and what a lab file writes. */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadLab } from '../../src/lab/load.js';
import { LabError } from '../../src/errors.js';
import { root } from '../helpers/cli.js';

const fixture = (name: string) => path.join(root, 'test', 'fixtures', 'hairpin', `${name}.yaml`);

function variantOf(file: string, edit: (text: string) => string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-docker-settings-'));
  const copy = path.join(dir, 'hairpin.yaml');
  fs.writeFileSync(copy, edit(fs.readFileSync(file, 'utf8')));
  return copy;
}

test('a Docker host without docker settings gets the proxy on and bridge filtering as the kernel has it', (t) => {
  const client = loadLab('docker-1090').nodes.find((n) => n.name === 'client')!;
  t.is(client.docker!.userlandProxy, true);
  t.is(client.docker!.bridgeNetfilter, undefined, 'nothing written: a stock kernel has br_netfilter as a module, and lab loads none');
});

test('the fixture says what it sets, and false is kept', (t) => {
  const off = loadLab(fixture('hairpin-proxy-off')).nodes.find((n) => n.name === 'host')!;
  t.is(off.docker!.userlandProxy, false);
  t.is(off.docker!.bridgeNetfilter, true);
  const unfiltered = loadLab(variantOf(fixture('hairpin-proxy-off'), (s) => s.replace('bridgeNetfilter: true', 'bridgeNetfilter: false')));
  t.is(unfiltered.nodes.find((n) => n.name === 'host')!.docker!.bridgeNetfilter, false);
});

test('bridge filtering set both ways on one Docker host is refused with the setting to use', (t) => {
  const file = variantOf(fixture('hairpin-proxy-on'), (s) =>
    s.replace('    description: The Docker host;', '    sysctls:\n      net.bridge.bridge-nf-call-iptables: 1\n    description: The Docker host;'),
  );
  const error = t.throws(() => loadLab(file)) as LabError;
  t.true(error instanceof LabError);
  t.deepEqual(
    error.details.map((d) => d.replace(/^.*?:\d+:\d+ /, '')),
    [
      "nodes.host.sysctls.net.bridge.bridge-nf-call-iptables: on a Docker host this is docker.bridgeNetfilter (true or false; absent, the kernel's own setting); set that instead",
    ],
  );
});

test('a variant may still switch bridge filtering at run time (a sysctl change on the Docker host)', (t) => {
  const lab = loadLab(fixture('hairpin-proxy-off'));
  const change = lab.variants.find((v) => v.name === 'self-unbridged')!.changes[0]!;
  t.deepEqual(change, { node: 'host', sysctl: { key: 'net.bridge.bridge-nf-call-iptables', value: '0' } });
});
