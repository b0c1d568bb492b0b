import type { ArgumentsCamelCase, Argv } from 'yargs';
import { LabError } from '../errors.js';
import { INSTANCE_NAME, LAB_NAME } from '../lab/names.js';
import { listStates } from '../state.js';

export const command = 'down [lab]';
export const describe = 'Remove everything a lab created (also after a crash); --all for every lab this tool started';
export const builder = (y: Argv) =>
  y
    .positional('lab', { type: 'string', describe: "a lab's name or path" })
    .option('instance', { type: 'string', describe: 'the copy to remove' })
    .option('kernel', { type: 'string', describe: 'the kernel the lab is up on (5.10, 6.1, 6.12, host)' })
    .option('all', { type: 'boolean', default: false, describe: 'every lab and instance that is up or half-created' });

export async function handler(argv: ArgumentsCamelCase<{ lab?: string; instance?: string; kernel?: string; all: boolean }>) {
  const { labDown } = await import('../lifecycle.js');
  const { labId } = await import('../lab/resolve.js');
  if (argv.all) {
    const ids = listStates().map((s) => s.lab);
    for (const id of ids) await labDown(id);
    process.stdout.write(ids.length ? `removed ${ids.join(', ')}\n` : 'no lab was up\n');
    return;
  }
  if (!argv.lab) throw new LabError('name a lab, or pass --all', { hint: 'lab down docker-1090' });
  if (argv.instance !== undefined && !INSTANCE_NAME.test(argv.instance)) throw new LabError(`"${argv.instance}" is not an instance name`);
  // A lab's name is its id's first part; only a path needs the file read (and the loader, zod and yaml, imported).
  const name = LAB_NAME.test(argv.lab) ? argv.lab : await nameInFile(argv.lab);
  const { singleKernel } = await import('./shared.js');
  const kernel = await singleKernel(argv.kernel);
  const id = labId(name, argv.instance, kernel);
  const { leftoverCopies } = await import('../run/variant-copies.js');
  const copies = kernel ? [] : leftoverCopies(name, argv.instance);
  const removed = [...(await labDown(id)), ...(await Promise.all(copies.map((copy) => labDown(copy)))).flat()];
  const also = copies.length ? ` and its variant copies ${copies.join(', ')}` : '';
  process.stdout.write(removed.length ? `removed ${removed.length} resources of ${id}${also}\n` : `nothing of ${id} was left\n`);
}

async function nameInFile(labPath: string): Promise<string> {
  const { locateLab, parseLabFile } = await import('../labs.js');
  return parseLabFile(locateLab(labPath), 'vagrant').name;
}
