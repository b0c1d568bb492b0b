/** Problems found in a lab file, each naming the file, the place, what was found and what was expected. */
import { LineCounter, type Document } from 'yaml';

export type Path = ReadonlyArray<string | number>;

export interface Problem {
  path: Path;
  message: string;
}

export function formatPath(path: Path): string {
  if (path.length === 0) return '(top level)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

/** "file:line:col path: message", with the line of the YAML node the path points at when it exists. */
export function locateProblems(file: string, doc: Document | undefined, counter: LineCounter | undefined, problems: Problem[]): string[] {
  return problems.map((p) => {
    let where = file;
    if (doc && counter) {
      const node = nearestNode(doc, p.path);
      const offset = node?.range?.[0];
      if (offset !== undefined) {
        const pos = counter.linePos(offset);
        where = `${file}:${pos.line}:${pos.col}`;
      }
    }
    return `${where} ${formatPath(p.path)}: ${p.message}`;
  });
}

function nearestNode(doc: Document, path: Path): { range?: [number, number, number] | null } | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] | null } | undefined;
    if (node && typeof node === 'object' && 'range' in node) return node;
    if (n === 0) return doc.contents as { range?: [number, number, number] | null } | undefined;
  }
  return undefined;
}

export function valueAt(data: unknown, path: Path): unknown {
  let cur: unknown = data;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[key];
  }
  return cur;
}
