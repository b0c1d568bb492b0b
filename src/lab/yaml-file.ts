/**
 * Reading a YAML file someone else wrote (lab files, exercises, ssh inventories): size, encoding,
 * syntax, aliases and nesting are checked before anything looks at the data, and every failure is
 * one LabError (exit 2) naming the file, with line and column where there is one.
 */
import fs from 'node:fs';
import { isAlias, isCollection, isPair, LineCounter, parseDocument, type Document } from 'yaml';
import { LabError } from '../errors.js';

/** Lab files are a few KiB; a megabyte is a mistake (or an attack), not a lab. */
export const MAX_YAML_BYTES = 1024 * 1024;
/** The deepest a lab file goes is about 8 levels. */
export const MAX_YAML_DEPTH = 32;
/** Aliases are allowed for sharing a block, not for multiplying one ("billion laughs"). */
export const MAX_YAML_ALIASES = 100;

export interface YamlFile {
  doc: Document;
  counter: LineCounter;
  data: unknown;
}

export function readYamlText(file: string, shown: string): string {
  let bytes: Buffer;
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_YAML_BYTES) {
      throw new LabError(`${shown} is ${size} bytes, over the ${MAX_YAML_BYTES}-byte limit for a YAML file`, { hint: 'is this the right file?' });
    }
    bytes = fs.readFileSync(file);
  } catch (error) {
    if (error instanceof LabError) throw error;
    throw new LabError(`cannot read ${shown}`, { details: [(error as Error).message] });
  }
  return decodeText(bytes, shown);
}

export function decodeText(bytes: Uint8Array, shown: string): string {
  if (bytes.length > MAX_YAML_BYTES) throw new LabError(`${shown} is ${bytes.length} bytes, over the ${MAX_YAML_BYTES}-byte limit for a YAML file`);
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new LabError(`${shown} is binary, not YAML text (a NUL byte at offset ${nul})`, { hint: 'is this the right file?' });
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new LabError(`${shown} is not UTF-8 text`, { hint: 'save it as UTF-8' });
  }
}

export function parseYaml(text: string, shown: string): YamlFile {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    // The first syntax error is the cause; the parser's later ones are mostly what it made of the rest after it.
    const first = doc.errors[0]!;
    const pos = first.linePos?.[0];
    const line = pos ? (text.split('\n')[pos.line - 1] ?? '') : '';
    const more = doc.errors.length - 1;
    const details = [
      `${shown}${pos ? `:${pos.line}:${pos.col}` : ''}: ${first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}` +
        (more ? ` (and ${more} more after it, most likely caused by this one)` : ''),
    ];
    const hint = /(^|[\s:[{,])\$\{/.test(line.replace(/"[^"]*"|'[^']*'/g, ''))
      ? 'a ${placeholder} outside quotes starts a YAML mapping: quote it, as in port: "${port}"'
      : undefined;
    throw new LabError(`${shown} is not valid YAML`, { details, ...(hint ? { hint } : {}) });
  }
  const at = (range: readonly number[] | null | undefined) => {
    if (!range) return shown;
    const pos = counter.linePos(range[0]!);
    return `${shown}:${pos.line}:${pos.col}`;
  };
  const deep = tooDeep(doc.contents);
  if (deep) throw new LabError(`${shown} nests deeper than ${MAX_YAML_DEPTH} levels`, { details: [`${at(deep.range)}: nesting level ${MAX_YAML_DEPTH + 1}`] });
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (error) {
    const alias = firstAlias(doc.contents);
    throw new LabError(`${shown} expands its aliases too far (a "billion laughs" pattern)`, {
      details: [`${at(alias?.range)}: ${(error as Error).message}`],
      hint: 'an alias may share a block; aliases of aliases that multiply the data are refused',
    });
  }
  return { doc, counter, data };
}

export function loadYamlFile(file: string, shown: string): YamlFile {
  return parseYaml(readYamlText(file, shown), shown);
}

type Node = { range?: readonly number[] | null } | null | undefined;

function children(node: unknown): unknown[] {
  if (!isCollection(node)) return [];
  return node.items.flatMap((item) => (isPair(item) ? [item.key, item.value] : [item]));
}

/** The first node past the depth limit, walked without recursion so a deep file cannot overflow the stack. */
function tooDeep(root: unknown): Node | undefined {
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (!isCollection(node)) continue;
    if (depth >= MAX_YAML_DEPTH) return node as Node;
    for (const child of children(node)) stack.push([child, depth + 1]);
  }
  return undefined;
}

function firstAlias(root: unknown): Node | undefined {
  const stack: unknown[] = [root];
  while (stack.length) {
    const node = stack.pop();
    if (isAlias(node)) return node as Node;
    stack.push(...children(node).reverse());
  }
  return undefined;
}
