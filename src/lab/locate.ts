/** Finding a lab's file without reading it: kept apart from load.ts so `lab down` can find one without loading the YAML and schema code. */
import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../errors.js';
import { labsDir } from '../paths.js';
import { LAB_NAME } from './names.js';

/** A lab argument is a lab's name in labs/, or a path to a lab file or a folder holding lab.yaml. */
export function locateLab(arg: string): string {
  const candidates = LAB_NAME.test(arg) && !arg.includes('/') ? [path.join(labsDir, arg, 'lab.yaml')] : [];
  const asPath = path.resolve(arg);
  candidates.push(asPath, path.join(asPath, 'lab.yaml'));
  for (const c of candidates) {
    if (fs.existsSync(c) && fs.statSync(c).isFile()) return c;
  }
  throw new LabError(`no lab "${arg}"`, {
    hint: `run "lab list" for the labs in ${path.relative(process.cwd(), labsDir) || labsDir}, or give a path to a lab.yaml`,
  });
}
