import fs from 'node:fs';
import path from 'node:path';
import { labsDir } from '../paths.js';
import { LabError } from '../errors.js';

export const command = 'list';
export const describe = 'List the labs in labs/ with their titles and upstream references';
export const builder = {};

export async function handler() {
  const { parseLabFile } = await import('../labs.js');
  const names = fs.existsSync(labsDir)
    ? fs
        .readdirSync(labsDir)
        .filter((d) => fs.existsSync(path.join(labsDir, d, 'lab.yaml')))
        .sort()
    : [];
  for (const name of names) {
    try {
      const lab = parseLabFile(path.join(labsDir, name, 'lab.yaml'));
      process.stdout.write(`${lab.name.padEnd(22)} ${lab.title}\n${''.padEnd(22)} ${lab.upstream.join('  ')}\n`);
    } catch (e) {
      process.stdout.write(`${name.padEnd(22)} (invalid: ${e instanceof LabError ? e.message : String(e)})\n`);
    }
  }
}
