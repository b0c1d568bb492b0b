import fs from 'node:fs';
import path from 'node:path';
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { LabError } from '../errors.js';
import { templatesDir } from '../paths.js';
import { LAB_NAME, nameRules } from '../lab/names.js';

export const command = 'new <name>';
export const describe = 'Write a commented skeleton of a declared lab (./<name>/lab.yaml) that validates and runs';
export const builder = (y: Argv) =>
  y
    .positional('name', { type: 'string', demandOption: true, describe: "the new lab's name" })
    .option('dir', { type: 'string', describe: 'the folder to create it in (default: the current folder)' });

export async function handler(argv: ArgumentsCamelCase<{ name: string; dir?: string }>) {
  if (!LAB_NAME.test(argv.name)) throw new LabError(`"${argv.name}" is not a lab name`, { hint: nameRules.lab });
  const folder = path.resolve(argv.dir ?? '.', argv.name);
  const file = path.join(folder, 'lab.yaml');
  if (fs.existsSync(file)) throw new LabError(`${file} exists already`, { hint: 'pick another name, or edit that file' });
  const schema = path.relative(folder, path.join(templatesDir, '..', 'schema', 'lab.schema.json'));
  const text = fs.readFileSync(path.join(templatesDir, 'new-lab.yaml'), 'utf8').replace('__NAME__', argv.name).replace('../../schema/lab.schema.json', schema);
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(file, text);
  const { parseLabFile, displayPath } = await import('../lab/load.js');
  parseLabFile(file);
  process.stdout.write(`wrote ${displayPath(file)} (valid)\nnext: edit it, then "lab validate ${displayPath(folder)}" and "lab run ${displayPath(folder)}"\n`);
}
