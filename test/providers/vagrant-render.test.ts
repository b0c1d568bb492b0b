/** Rendered Vagrantfiles: golden per lab, valid for Vagrant itself, and no value can become code. */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadLab } from '../../src/lab/load.js';
import { renderVagrant, writeRendered } from '../../src/providers/vagrant/render.js';
import { lab as runLab, root, tempHome } from '../helpers/cli.js';
import { matchesGolden } from '../helpers/golden.js';
import type { ResolvedLab } from '../../src/lab/model.js';

const labs = fs.readdirSync(path.join(root, 'labs')).filter((d) => fs.existsSync(path.join(root, 'labs', d, 'lab.yaml')));
const hasVagrant = (() => {
  try {
    execFileSync('vagrant', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!hasVagrant && process.env.CI) throw new Error('CI must install vagrant (see .ci/run)');

function validate(dir: string): string {
  // The provider plugin (vagrant-libvirt) need not be installed to check the Vagrantfile itself.
  return execFileSync('vagrant', ['validate', '--ignore-provider'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, VAGRANT_HOME: path.join(dir, '.vagrant.d'), VAGRANT_CHECKPOINT_DISABLE: '1' },
  });
}

for (const name of labs) {
  test(`${name}: rendered Vagrantfile and provisioning match their goldens`, (t) => {
    const rendered = renderVagrant(loadLab(name));
    for (const [file, content] of Object.entries(rendered.files)) matchesGolden(t, path.join('vagrant', name, file), content);
  });

  (hasVagrant ? test.serial : test.serial.skip)(`${name}: vagrant validate accepts the rendered Vagrantfile`, (t) => {
    const dir = tempHome('lab-vagrant-');
    writeRendered(renderVagrant(loadLab(name)), dir);
    t.regex(validate(dir), /validated successfully/);
  });
}

test('lab render writes the files and says how to boot them; a hostile box name is refused', async (t) => {
  const out = path.join(tempHome('lab-render-'), 'vm');
  const r = await runLab(['render', 'docker-1090', '--provider', 'vagrant', '--out', out]);
  t.is(r.code, 0, r.stderr);
  t.true(fs.existsSync(path.join(out, 'Vagrantfile')));
  t.true(fs.existsSync(path.join(out, 'provision', 'client.sh')));
  t.regex(r.stdout, /vagrant up/);
  const bad = await runLab(['render', 'docker-1090', '--out', out, '--box', 'x"; system("id")']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /is not a box name/);
});

(hasVagrant ? test.serial : test.serial.skip)('hostile values that got past validation stay data in Ruby and in the shell', (t) => {
  const marker = path.join(tempHome('lab-pwn-'), 'pwned');
  const evil = `a"; system("touch ${marker}"); x = "#{\`touch ${marker}\`}\nsystem("touch ${marker}")`;
  const shellEvil = `x'; touch ${marker}; echo '$(touch ${marker})\ntouch ${marker}`;
  const base = loadLab('docker-1090');
  const hostile: ResolvedLab = {
    ...base,
    id: evil,
    nodes: base.nodes.map((n) =>
      n.name === 'router' ? { ...n, name: evil, sysctls: { [shellEvil]: shellEvil }, routes: [{ to: shellEvil, via: shellEvil, dev: 'eth0' }] } : n,
    ),
  };
  const rendered = renderVagrant(hostile, { box: evil });
  const dir = tempHome('lab-vagrant-hostile-');
  writeRendered(rendered, dir);
  t.notRegex(rendered.files.Vagrantfile!, /[^\\]#\{/, 'no Ruby interpolation survives');
  let output: string;
  try {
    output = validate(dir);
  } catch (error) {
    output = String((error as { message: string }).message);
  }
  // Vagrant reads the hostile name as a plain string: it either accepts the file or rejects the name, quoting it verbatim.
  t.true(output.includes('validated successfully') || output.includes(`The sub-VM name '${evil}' is invalid`), output);
  const script = Object.entries(rendered.files).find(([f]) => f.includes('touch'))?.[1];
  t.truthy(script);
  execFileSync('sh', ['-n', '-c', script!]);
  // Run it for real with the system tools replaced by functions that print the words they were given.
  const stub = `sysctl() { printf '%s\\n' "sysctl" "$@"; }\nip() { printf '%s\\n' "ip" "$@"; }\n`;
  const words = execFileSync('sh', ['-c', stub + script!.replace('#!/bin/sh', '')], { encoding: 'utf8' }).split('\n');
  t.deepEqual(words.slice(0, 3), ['sysctl', '-qw', `${shellEvil}=${shellEvil}`.split('\n')[0]!], 'the sysctl got the hostile value as one word');
  t.true(words.join('\n').includes(`ip\nroute\nreplace\n${shellEvil}\nvia\n${shellEvil}`), 'the route got each hostile value as one word');
  t.false(fs.existsSync(marker), 'nothing was executed');
});

test('the lab file chooses the box, the VM provider, memory and CPUs; the command line box wins', (t) => {
  const base = loadLab('docker-1090');
  const lab: ResolvedLab = {
    ...base,
    settings: { vagrant: { box: 'example/bookworm', provider: 'virtualbox', machines: { client: { memory: 2048, cpus: 2 } } } },
  };
  const fromFile = renderVagrant(lab).files.Vagrantfile!;
  t.regex(fromFile, /config\.vm\.box = "example\/bookworm"/);
  const client = fromFile.slice(fromFile.indexOf('config.vm.define "client"'), fromFile.indexOf('config.vm.define "router"'));
  t.regex(client, /lv\.memory = 2048\n\s+lv\.cpus = 2/);
  t.regex(client, /vb\.memory = 2048\n\s+vb\.cpus = 2/);
  const router = fromFile.slice(fromFile.indexOf('config.vm.define "router"'));
  t.regex(router, /lv\.memory = 512\n\s+lv\.cpus = 1/, 'machines not named keep the defaults');
  t.regex(renderVagrant(lab, { box: 'local/other' }).files.Vagrantfile!, /config\.vm\.box = "local\/other"/);
});

test('a link MTU reaches the VM: provisioning sets it on the device that holds the lab address', (t) => {
  const rendered = renderVagrant(loadLab(path.join(root, 'test', 'fixtures', 'mtu')));
  t.regex(rendered.files['provision/server.sh']!, /ip link set dev "\$\(ip -o -4 addr show to '?10\.20\.2\.2'? \| awk '\{print \$2; exit\}'\)" mtu '?1400'?/);
  t.notRegex(rendered.files['provision/router.sh']!, /mtu '?9000'?/);
});
