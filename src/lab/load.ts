/** load -> validate -> resolve: from a name or path to a resolved lab, or one LabError listing every problem. */
import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { LabError } from '../errors.js';
import { labsDir } from '../paths.js';
import { labFileSchema, type LabFile } from './schema.js';
import { locateProblems } from './problems.js';
import { problemsFromZod } from './zod-problems.js';
import { validateLab } from './validate.js';
import { labId, resolveLab } from './resolve.js';
import type { ResolvedLab } from './model.js';
import { INSTANCE_NAME, LAB_NAME } from './names.js';
import { getScenario } from '../run/scenarios/registry.js';

/** A lab argument is a lab's name in labs/, or a path to a lab file or a folder holding lab.yaml. */
export function locateLab(arg: string): string {
  const candidates = LAB_NAME.test(arg) && !arg.includes('/') ? [path.join(labsDir, arg, 'lab.yaml')] : [];
  const asPath = path.resolve(arg);
  candidates.push(asPath, path.join(asPath, 'lab.yaml'));
  for (const c of candidates) {
    if (fs.existsSync(c) && fs.statSync(c).isFile()) return c;
  }
  throw new LabError(`no lab "${arg}"`, { hint: `run "lab list" for the labs in ${path.relative(process.cwd(), labsDir) || labsDir}, or give a path to a lab.yaml` });
}

export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

export function parseLabFile(file: string, text = readText(file)): LabFile {
  const shown = displayPath(file);
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const details = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      return `${shown}${pos ? `:${pos.line}:${pos.col}` : ''}: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`;
    });
    throw new LabError(`${shown} is not valid YAML`, { details });
  }
  const data: unknown = doc.toJS();
  const parsed = labFileSchema.safeParse(data ?? {});
  if (!parsed.success) {
    const problems = problemsFromZod(labFileSchema, parsed.error.issues, data);
    throw new LabError(`${shown} has ${plural(problems.length, 'problem')}`, { details: locateProblems(shown, doc, counter, problems) });
  }
  const semantic = validateLab(parsed.data);
  if (semantic.length > 0) {
    throw new LabError(`${shown} has ${plural(semantic.length, 'problem')}`, { details: locateProblems(shown, doc, counter, semantic) });
  }
  const dirName = path.basename(path.dirname(file));
  if (path.basename(file) === 'lab.yaml' && path.dirname(path.dirname(file)) === labsDir && dirName !== parsed.data.name) {
    throw new LabError(`${shown}: name "${parsed.data.name}" differs from its folder "${dirName}"`, { hint: 'a lab in labs/ lives in a folder named after it' });
  }
  return parsed.data;
}

/** `kernel` is a Debian kernel series (5.10); the lab's id then carries it, so it can be up on several kernels at once. */
export function loadLab(arg: string, instance?: string, kernel?: string): ResolvedLab {
  if (instance !== undefined && !INSTANCE_NAME.test(instance)) {
    throw new LabError(`"${instance}" is not an instance name`, { hint: 'lowercase letters, digits and "-", at most 16 characters' });
  }
  const file = locateLab(arg);
  const resolved = resolveLab(parseLabFile(file), file, instance);
  const lab = kernel ? { ...resolved, id: labId(resolved.name, instance, kernel), kernel } : resolved;
  const scenario = getScenario(lab.scenario.kind);
  const problems = scenario.check ? [...new Set(lab.variants.flatMap((v) => scenario.check!(scenario.params.parse(v.params), lab).map((p: string) => `variants.${v.name}: ${p}`)))] : [];
  if (problems.length) throw new LabError(`${displayPath(file)} has ${plural(problems.length, 'problem')}`, { details: problems });
  return lab;
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new LabError(`cannot read ${displayPath(file)}`, { details: [(error as Error).message] });
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
