/**
 * Writes schema/agents.json and docs/agents.md from each generic agent's own DECLARATION (`python3 -S <agent>
 * --describe`) and its arguments' schema: what lab validate checks counter and event names against, and the agents'
 * reference for lab authors. `--check` only compares (the test suite uses it): exit 1 when either file is stale.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { AGENTS_FILE, type AgentDeclaration } from '../src/lab/declared/agents.js';
import { GENERIC_AGENTS, declaredSchemas, type GenericAgentKind } from '../src/lab/declared/spec.js';
import { agentsDir, packageRoot } from '../src/paths.js';

const DOC_FILE = path.join(packageRoot, 'docs', 'agents.md');

function declarations(): Record<string, AgentDeclaration> {
  const out: Record<string, AgentDeclaration> = {};
  for (const [kind, file] of Object.entries(GENERIC_AGENTS) as Array<[GenericAgentKind, string]>) {
    const text = execFileSync('python3', ['-S', path.join(agentsDir, file), '--describe'], { encoding: 'utf8' });
    const declared = JSON.parse(text) as AgentDeclaration;
    if (declared.kind !== kind) throw new Error(`${file} declares kind ${declared.kind}, but the lab schema runs it as ${kind}`);
    out[kind] = declared;
  }
  return out;
}

interface JsonSchema {
  properties?: Record<string, { type?: string; default?: unknown; enum?: unknown[]; minimum?: number; maximum?: number; description?: string }>;
  required?: string[];
}

function argumentRows(kind: GenericAgentKind): string[] {
  const schema = z.toJSONSchema(declaredSchemas().agentArgs[kind], { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return Object.entries(schema.properties ?? {}).map(([name, p]) => {
    const range = p.enum
      ? p.enum.map((v) => `\`${String(v)}\``).join(', ')
      : [p.minimum, p.maximum].every((v) => v !== undefined)
        ? `${p.minimum} to ${p.maximum}`
        : '';
    const given = schema.required?.includes(name) ? 'required' : p.default !== undefined ? `\`${JSON.stringify(p.default)}\`` : 'optional';
    return `| \`${name}\` | ${p.type ?? ''} | ${given} | ${range} |`;
  });
}

function markdown(all: Record<string, AgentDeclaration>): string {
  const lines = [
    '# Generic agents',
    '',
    "Written by `scripts/write-agents.ts` from each agent's own declaration (`DECLARATION` in `agents/generic_*.py`,",
    "printed by `python3 agents/<file> --describe`) and the lab schema's arguments. Do not edit by hand: `npm run build`",
    'rewrites it. A declared step runs one with `agent: { name, node, run: <kind>, args: {...} }`; its JSON lines go to',
    '`agents/<name>.jsonl`, ending with a `summary`. Verdict rules count `agent: { name, counter }` (a number of the',
    'summary, or the length of a list) or `agent: { name, events, phase }` (how many events of one kind, within a phase);',
    '`lab validate` checks both names against the lists below.',
    '',
  ];
  for (const [kind, d] of Object.entries(all)) {
    lines.push(`## ${kind}`, '', `\`agents/${GENERIC_AGENTS[kind as GenericAgentKind]}\`. ${d.semantics}`, '');
    lines.push('| argument | type | default | values |', '|---|---|---|---|', ...argumentRows(kind as GenericAgentKind), '');
    lines.push('| counter | what it counts |', '|---|---|', ...Object.entries(d.counters).map(([n, w]) => `| \`${n}\` | ${w} |`), '');
    lines.push('| event | when |', '|---|---|', ...Object.entries(d.events).map(([n, w]) => `| \`${n}\` | ${w} |`), '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

const all = declarations();
const files: Array<[string, string]> = [
  [AGENTS_FILE, `${JSON.stringify(all, null, 2)}\n`],
  [DOC_FILE, markdown(all)],
];
if (process.argv.includes('--check')) {
  const stale = files
    .filter(([file, text]) => !fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text)
    .map(([file]) => path.relative(packageRoot, file));
  if (stale.length) {
    process.stderr.write(`stale: ${stale.join(', ')} (npm run build rewrites them)\n`);
    process.exit(1);
  }
} else {
  for (const [file, text] of files) fs.writeFileSync(file, text);
}
