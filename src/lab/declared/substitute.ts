/**
 * ${name} placeholders in a declared scenario. A value that is exactly "${name}" takes the
 * parameter's value with its type (a number stays a number); inside a longer text it is spliced
 * in as text. Names are the scenario's params (a variant's params override them) and, for every
 * node or container, ${<node>.address}: the address other nodes reach it at.
 */
import type { Path, Problem } from '../problems.js';

const PLACEHOLDER = /\$\{([A-Za-z][A-Za-z0-9_.-]*)\}/g;
const WHOLE = /^\$\{([A-Za-z][A-Za-z0-9_.-]*)\}$/;

export function substitute(value: unknown, names: Record<string, unknown>, path: Path, problems: Problem[]): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole) return lookup(whole[1]!, names, path, problems) ?? value;
    return value.replace(PLACEHOLDER, (match, name: string) => {
      const found = lookup(name, names, path, problems);
      if (found === undefined) return match;
      if (typeof found === 'object' && found !== null) {
        const kind = Array.isArray(found) ? 'list' : 'mapping';
        problems.push({ path, message: `\${${name}} is a ${kind}; inside a text only numbers, words and booleans can be substituted` });
        return match;
      }
      return String(found);
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, names, [...path, i], problems));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, names, [...path, k], problems)]));
  }
  return value;
}

function lookup(name: string, names: Record<string, unknown>, path: Path, problems: Problem[]): unknown {
  if (name in names) return names[name];
  problems.push({
    path,
    message: `unknown placeholder \${${name}}; known: ${Object.keys(names)
      .map((n) => `\${${n}}`)
      .join(', ')}`,
  });
  return undefined;
}
