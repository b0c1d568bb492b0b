import path from 'node:path';
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { instanceOption, labArg } from './shared.js';
import { LabError } from '../errors.js';

export const command = 'render <lab>';
export const describe = "Write what a provider would use to build the lab (for vagrant: the Vagrantfile and its provisioning), without booting anything";
export const builder = (y: Argv) =>
  instanceOption(labArg(y))
    .option('provider', { type: 'string', default: 'vagrant', describe: 'vagrant' })
    .option('out', { type: 'string', demandOption: true, describe: 'the folder to write to' })
    .option('box', { type: 'string', describe: 'the Vagrant box (default lab/debian12, built by scripts/build-box.sh)' })
    .option('kvm', { type: 'boolean', default: false, describe: 'use KVM instead of QEMU software emulation (libvirt)' });

export async function handler(argv: ArgumentsCamelCase<{ lab: string; instance?: string; provider: string; out: string; box?: string; kvm: boolean }>) {
  const { loadLab } = await import('../lab/load.js');
  const { renderVagrant, writeRendered } = await import('../providers/vagrant/render.js');
  if (argv.provider !== 'vagrant') throw new LabError(`lab render knows the vagrant provider only, not "${argv.provider}"`);
  if (argv.box !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._/-]{0,100}$/.test(argv.box)) throw new LabError(`"${argv.box}" is not a box name`, { hint: 'letters, digits, ".", "_", "-", "/"' });
  const lab = loadLab(argv.lab, argv.instance, 'vagrant');
  const written = writeRendered(renderVagrant(lab, { box: argv.box, libvirtDriver: argv.kvm ? 'kvm' : 'qemu' }), path.resolve(argv.out));
  process.stdout.write(`${written.map((f) => path.relative(process.cwd(), f)).join('\n')}\nboot it with: cd ${path.relative(process.cwd(), path.resolve(argv.out)) || '.'} && vagrant up\n`);
}
