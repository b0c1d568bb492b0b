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
    .option('kernel', { type: 'string', describe: 'the kernels the lab is up on, as lab up took them (5.10, 6.1, 6.12, host, client=5.10)' })
    .option('all', { type: 'boolean', default: false, describe: 'every lab and instance that is up or half-created' });

export async function handler(argv: ArgumentsCamelCase<{ lab?: string; instance?: string; kernel?: string | string[]; all: boolean }>) {
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
  // A lab's name is its id's first part; only a path needs the name looked up.
  const name = LAB_NAME.test(argv.lab) ? argv.lab : await nameOfPath(argv.lab, argv.instance);
  const { singleKernel } = await import('./shared.js');
  const { kernelTag } = await import('../lab/node-kernels.js');
  const kernel = kernelTag(await singleKernel(argv.kernel));
  const id = labId(name, argv.instance, kernel);
  const { leftoverCopies } = await import('../run/variant-copies.js');
  const copies = kernel ? [] : leftoverCopies(name, argv.instance);
  const removed = [...(await labDown(id)), ...(await Promise.all(copies.map((copy) => labDown(copy)))).flat()];
  const also = copies.length ? ` and its variant copies ${copies.join(', ')}` : '';
  process.stdout.write(removed.length ? `removed ${removed.length} resources of ${id}${also}\n` : `nothing of ${id} was left\n`);
}

/**
 * The name of the lab a file holds: from the state of the lab brought up from that file (with that instance) when there
 * is exactly one, without reading the file; parsing it (and importing the loader, zod and yaml) takes most of a second
 * for a 1000-node lab. Otherwise, as when the lab's state is gone, from the file itself.
 */
async function nameOfPath(labPath: string, instance: string | undefined): Promise<string> {
  const { locateLab } = await import('../lab/locate.js');
  const file = locateLab(labPath);
  const recorded = new Set(
    listStates()
      .filter((s) => s.file === file && s.instance === instance)
      .map((s) => s.name),
  );
  if (recorded.size === 1) return [...recorded][0]!;
  const { parseCheckedLabFile } = await import('../checked-lab.js');
  return parseCheckedLabFile(file, 'any').name; // only its name is read: any sysctl will do
}
