/** load -> validate -> resolve: from a name or path to a resolved lab, or one LabError listing every problem. */
import path from 'node:path';
import { LabError } from '../errors.js';
import { labsDir } from '../paths.js';
import { labFileSchema, labFileSchemaWith, settingsOf, type LabFile } from './schema.js';
import type { SettingsDeclarations } from './provider-settings.js';
import { locateProblems } from './problems.js';
import { problemsFromZod } from './zod-problems.js';
import { validateLab } from './validate.js';
import { labId, resolveLab } from './resolve.js';
import type { ResolvedLab } from './model.js';
import { INSTANCE_NAME } from './names.js';
import { locateLab } from './locate.js';
import type { ScenarioCatalogue } from './scenario-catalogue.js';
import { isScalar } from 'yaml';
import { parseYaml, readYamlText, type YamlFile } from './yaml-file.js';
import type { SysctlScope } from './sysctl-policy.js';
import { applyKernels, kernelChoiceText, kernelTag, type KernelChoice } from './node-kernels.js';

export { locateLab } from './locate.js';

export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

/**
 * How a lab file is checked: the scenario's kind and parameters against the catalogue when one is given (commands load
 * labs through src/checked-lab.ts, which gives the tool's own; without one, the topology only), sysctls against the provider's scope.
 */
export interface LoadOptions {
  catalogue?: ScenarioCatalogue;
  /** The sysctls the provider's nodes may take (its descriptor's `sysctls`); namespace when not given. */
  sysctls?: SysctlScope;
  /** A Debian kernel series (5.10): the lab runs inside a QEMU guest of that kernel. */
  kernel?: string;
  /** Each provider's own section of a lab file, by provider name (the registry's); without them, a file has none. */
  settings?: SettingsDeclarations;
  /** The command line's kernels, every node's and single nodes' (--kernel client=5.10); wins over `kernel`. */
  kernels?: KernelChoice;
}

/**
 * A lab file found and its YAML parsed, once: then checked leniently for its id (to find its state, which names the
 * provider) and strictly with the provider, without reading or parsing the file again.
 */
export interface OpenedLab {
  file: string;
  instance: string | undefined;
  yaml: YamlFile;
}

export function openLab(arg: string, instance?: string): OpenedLab {
  checkInstance(instance);
  return openLabText(locateLab(arg), undefined, instance);
}

function openLabText(file: string, text: string | undefined, instance: string | undefined): OpenedLab {
  const shown = displayPath(file);
  return { file, instance, yaml: parseYaml(text ?? readYamlText(file, shown), shown) };
}

export function parseLabFile(file: string, options: LoadOptions = {}, text?: string): LabFile {
  return checkLabFile(openLabText(file, text, undefined), options);
}

/** The schema, the semantic checks (sysctls as the provider allows them) and the folder's name, on a parsed file. */
function checkLabFile({ file, yaml }: OpenedLab, options: LoadOptions): LabFile {
  const shown = displayPath(file);
  const { doc, counter } = yaml;
  const data = withKernelsAsWritten(yaml);
  const parsed = parseSections(data ?? {}, options.settings ?? {});
  if (!parsed) {
    // Problems are told from the whole file's schema: in the order of its keys, each unknown key with those allowed.
    const whole = options.settings ? labFileSchemaWith(options.settings) : labFileSchema;
    const problems = problemsFromZod(whole, whole.safeParse(data ?? {}, { jitless: true }).error?.issues ?? [], data);
    throw new LabError(`${shown} has ${plural(problems.length, 'problem')}`, { details: locateProblems(shown, doc, counter, problems) });
  }
  const semantic = validateLab(parsed, options);
  if (semantic.length > 0) {
    throw new LabError(`${shown} has ${plural(semantic.length, 'problem')}`, { details: locateProblems(shown, doc, counter, semantic) });
  }
  const dirName = path.basename(path.dirname(file));
  if (path.basename(file) === 'lab.yaml' && path.dirname(path.dirname(file)) === labsDir && dirName !== parsed.name) {
    throw new LabError(`${shown}: name "${parsed.name}" differs from its folder "${dirName}"`, {
      hint: 'a lab in labs/ lives in a folder named after it',
    });
  }
  return parsed;
}

/** The lab's own keys and each provider's section, each by its schema; undefined when any of them fails. */
function parseSections(data: unknown, declarations: SettingsDeclarations): LabFile | undefined {
  const sections = settingsOf(declarations);
  const raw: Record<string, unknown> = data !== null && typeof data === 'object' && !Array.isArray(data) ? { ...data } : {};
  const settings: Record<string, unknown> = {};
  for (const [name, section] of Object.entries(sections)) {
    if (raw[name] === undefined) continue;
    const parsed = section.schema.safeParse(raw[name], { jitless: true });
    if (!parsed.success) return undefined;
    settings[name] = parsed.data;
    delete raw[name];
  }
  // jitless: zod would compile a parser for each object schema with new Function, which pays only for repeated parses.
  const own = labFileSchema.safeParse(raw, { jitless: true });
  if (!own.success) return undefined;
  return Object.keys(settings).length ? { ...own.data, settings } : own.data;
}

/** YAML reads an unquoted `kernel: 5.10` as the number 5.1: a node's kernel is taken as it was written. */
function withKernelsAsWritten({ doc, data }: YamlFile): unknown {
  const nodes = (data as { nodes?: unknown } | null)?.nodes;
  if (!nodes || typeof nodes !== 'object') return data;
  for (const [name, node] of Object.entries(nodes as Record<string, unknown>)) {
    const written = doc.getIn(['nodes', name, 'kernel'], true);
    if (node && typeof node === 'object' && isScalar(written) && typeof written.value === 'number' && written.source)
      (node as Record<string, unknown>).kernel = written.source;
  }
  return data;
}

function checkInstance(instance: string | undefined): void {
  if (instance !== undefined && !INSTANCE_NAME.test(instance)) {
    throw new LabError(`"${instance}" is not an instance name`, { hint: 'lowercase letters, digits and "-", at most 16 characters' });
  }
}

/** The id of an opened lab, from a lenient check (any sysctl): to find its state before the strict one. */
export function openedLabId(opened: OpenedLab, kernel?: string | KernelChoice, settings?: SettingsDeclarations): string {
  return labId(checkLabFile(opened, { sysctls: 'any', settings }).name, opened.instance, kernelTag(choiceOf(kernel)));
}

function choiceOf(kernel: string | KernelChoice | undefined): KernelChoice | undefined {
  return typeof kernel === 'string' ? { lab: kernel, nodes: {} } : kernel;
}

export function loadLab(arg: string, instance?: string, options: LoadOptions = {}): ResolvedLab {
  return loadOpenedLab(openLab(arg, instance), options);
}

/** The whole pipeline on one file (its text given, or read): what loadLab does once the file is found. */
export function loadLabText(file: string, text?: string, instance?: string, options: LoadOptions = {}): ResolvedLab {
  return loadOpenedLab(openLabText(file, text, instance), options);
}

/** The strict checks (with the provider's sysctls and the catalogue's scenarios) and the resolved lab, from an opened file. */
export function loadOpenedLab(opened: OpenedLab, options: LoadOptions = {}): ResolvedLab {
  const { file, instance } = opened;
  const resolved = named(file, () => resolveLab(checkLabFile(opened, options), file, instance));
  // On kernels named on the command line the lab's id carries them, so the same lab can be up on several at once.
  const choice = options.kernels ?? choiceOf(options.kernel);
  const tag = kernelTag(choice);
  const lab = { ...applyKernels(resolved, choice), id: labId(resolved.name, instance, tag), ...(tag ? { kernelArg: kernelChoiceText(choice!) } : {}) };
  const scenario = options.catalogue?.find(lab.scenario.kind);
  const problems = scenario?.check
    ? [...new Set(lab.variants.flatMap((v) => scenario.check!(scenario.params.parse(v.params), lab).map((p: string) => `variants.${v.name}: ${p}`)))]
    : [];
  const shown = displayPath(file);
  if (problems.length) throw new LabError(`${shown} has ${plural(problems.length, 'problem')}`, { details: problems.map((p) => `${shown} ${p}`) });
  return lab;
}

/** Every lab-file error names the file, also those the resolver raises without it. */
function named<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    const shown = displayPath(file);
    if (!(error instanceof LabError) || error.message.includes(shown)) throw error;
    throw new LabError(`${shown}: ${error.message}`, { details: error.details, hint: error.hint, kind: error.kind });
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
