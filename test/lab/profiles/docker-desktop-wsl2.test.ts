/** The docker-desktop-wsl2 profile keeps dockerd's userland proxy on, as Docker Desktop does (moby/vpnkit#462). */
import test from 'ava';
import { expandDesktops } from '../../../src/lab/profiles/docker-desktop-wsl2.js';
import { parseLabFile } from '../../../src/lab/load.js';
import { labsDir } from '../../../src/paths.js';
import path from 'node:path';
import type { LabFile } from '../../../src/lab/schema.js';

const desktopLab = (): LabFile => parseLabFile(path.join(labsDir, 'docker-desktop-udp', 'lab.yaml'));

test('the VM of a docker-desktop-wsl2 node runs dockerd with its userland proxy on', (t) => {
  const { lab, problems } = expandDesktops(desktopLab());
  t.deepEqual(problems, []);
  t.is(lab.nodes['desktop-vm']?.docker?.userlandProxy, true);
});

test('userlandProxy: false on a docker-desktop-wsl2 node is refused, saying why and what to do', (t) => {
  const file = desktopLab();
  const desktop = file.nodes['desktop']!;
  const { problems } = expandDesktops({ ...file, nodes: { ...file.nodes, desktop: { ...desktop, docker: { ...desktop.docker!, userlandProxy: false } } } });
  t.deepEqual(
    problems.map((p) => p.path),
    [['nodes', 'desktop', 'docker', 'userlandProxy']],
  );
  t.regex(
    problems[0]!.message,
    /Docker Desktop publishes every port through dockerd's userland proxy.*remove userlandProxy: false, or use profile docker-host/,
  );
});
