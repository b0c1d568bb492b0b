import path from 'node:path';
import { labNames, labsDir } from '../paths.js';
import { LabError } from '../errors.js';
import { listingStamp, saveListing, savedListing, type ListedLab } from '../lab/listing.js';

export const command = 'list';
export const describe = 'List the labs in labs/ with their titles and upstream references';
export const builder = {};

export async function handler() {
  const names = labNames();
  const files = names.map((n) => path.join(labsDir, n, 'lab.yaml'));
  const stamp = listingStamp(files);
  let labs = savedListing(stamp);
  if (!labs) {
    labs = await parseAll(names, files);
    saveListing(stamp, labs);
  }
  for (const lab of labs) {
    if (lab.invalid !== undefined) process.stdout.write(`${lab.name.padEnd(22)} (invalid: ${lab.invalid})\n`);
    else process.stdout.write(`${lab.name.padEnd(22)} ${lab.title}\n${''.padEnd(22)} ${(lab.upstream ?? []).join('  ')}\n`);
  }
}

async function parseAll(names: string[], files: string[]): Promise<ListedLab[]> {
  const { parseCheckedLabFile } = await import('../checked-lab.js');
  return names.map((name, i) => {
    try {
      const lab = parseCheckedLabFile(files[i]!);
      return { name: lab.name, title: lab.title, upstream: lab.upstream };
    } catch (e) {
      return { name, invalid: e instanceof LabError ? e.message : String(e) };
    }
  });
}
