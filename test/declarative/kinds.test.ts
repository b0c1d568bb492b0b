/**
 * A declared step or measure kind is one module plus one entry in its registry: these tests count the modules, their
 * registrations and every other place that could name a kind, and fail when a kind needs an edit anywhere else.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { root } from '../helpers/cli.js';
import { STEPS } from '../../src/lab/declared/steps/index.js';
import { MEASURES } from '../../src/lab/declared/measures/index.js';
import { MEASURE_KINDS, STEP_KINDS, declaredSchemas } from '../../src/lab/declared/spec.js';

const REGISTRIES = [
  { folder: 'src/lab/declared/steps', kinds: Object.keys(STEPS) },
  { folder: 'src/lab/declared/measures', kinds: Object.keys(MEASURES) },
];
const KINDS = [...new Set(REGISTRIES.flatMap((r) => r.kinds))];

function sources(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) Object.assign(out, sources(rel));
    else if (/\.c?ts$/.test(entry.name)) out[rel] = fs.readFileSync(path.join(root, rel), 'utf8');
  }
  return out;
}

/** Every module a source imports, resolved to a repository path (relative imports only). */
function importsOf(file: string, source: string): string[] {
  return [...source.matchAll(/\bfrom\s+'(\.[^']+)'|\bimport\s*\(\s*'(\.[^']+)'\s*\)/g)].map((m) =>
    path.posix.normalize(path.posix.join(path.posix.dirname(file), (m[1] ?? m[2])!)).replace(/\.js$/, '.ts'),
  );
}

const inKindFolder = (file: string) => REGISTRIES.some((r) => file.startsWith(`${r.folder}/`));

/** The declared machinery and every module that uses it: where a switch over kinds would hide. */
function declaredUsers(all: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(all).filter(
      ([file, source]) =>
        !inKindFolder(file) &&
        (file.startsWith('src/lab/declared/') ||
          file.startsWith('src/run/declarative/') ||
          importsOf(file, source).some((i) => i.startsWith('src/lab/declared/') || i.startsWith('src/run/declarative/'))),
    ),
  );
}

/** A kind's name used as a kind outside its module and registry: compared, switched on, built, or looked up. */
function kindNamings(files: Record<string, string>, kinds: string[]): string[] {
  const k = kinds.join('|');
  const patterns = [
    new RegExp(`\\.kind\\s*[!=]==?\\s*['"](${k})['"]`, 'g'),
    new RegExp(`\\bcase\\s+['"](${k})['"]\\s*:`, 'g'),
    new RegExp(`\\bkind\\s*:\\s*['"](${k})['"]`, 'g'),
    new RegExp(`\\b(?:steps|measures|STEPS|MEASURES)(?:\\.(${k})\\b|\\[\\s*['"](${k})['"]\\s*\\])`, 'g'),
  ];
  return Object.entries(files).flatMap(([file, source]) => patterns.flatMap((p) => [...source.matchAll(p)].map((m) => `${file}: ${m[0]}`)));
}

test('each kind module is registered once, under its file name, and nothing but its registry imports it', (t) => {
  const all = { ...sources('src'), ...sources('scripts') };
  for (const { folder, kinds } of REGISTRIES) {
    const modules = fs
      .readdirSync(path.join(root, folder))
      .filter((f) => f.endsWith('.ts') && f !== 'index.ts')
      .map((f) => f.replace(/\.ts$/, ''));
    t.true(modules.length >= 5, `${folder}: the kind modules were found`);
    t.deepEqual([...kinds].sort(), [...modules].sort(), `${folder}/index.ts registers exactly the modules of ${folder}`);
    const registry = all[`${folder}/index.ts`]!;
    for (const m of modules) {
      const target = `${folder}/${m}.ts`;
      const importers = Object.entries(all).filter(([file, source]) => importsOf(file, source).includes(target));
      t.deepEqual(
        importers.map(([file]) => file),
        [`${folder}/index.ts`],
        `${target} is imported by its registry only`,
      );
      t.is(importsOf(`${folder}/index.ts`, registry).filter((i) => i === target).length, 1, `${target} is imported once`);
    }
  }
  t.deepEqual(STEP_KINDS, Object.keys(STEPS));
  t.deepEqual(MEASURE_KINDS, Object.keys(MEASURES));
});

test('no module outside a kind and its registry names a kind as a kind', (t) => {
  const users = declaredUsers({ ...sources('src'), ...sources('scripts') });
  t.true(Object.keys(users).length > 15, 'the declared machinery and its users were found');
  t.true('src/run/declarative/steps.ts' in users && 'src/lab/validate.ts' in users && 'scripts/write-schema.ts' in users);
  t.deepEqual(kindNamings(users, KINDS), []);
});

test('the check finds a switch, a comparison, a built measure and a lookup by a kind name', (t) => {
  const found = kindNamings(
    {
      'src/run/declarative/x.ts': "switch (step.kind) {\n  case 'capture':\n}\nif (m.kind === 'packets') f();",
      'src/run/declarative/y.ts': "measureId({ kind: 'measure', spec: name });\ndeclaredSchemas().steps.agent;\nMEASURES['conntrack'];",
      'src/run/declarative/z.ts': "exec(['conntrack', '-S']); const run = 1;",
    },
    KINDS,
  );
  t.deepEqual(found, [
    "src/run/declarative/x.ts: .kind === 'packets'",
    "src/run/declarative/x.ts: case 'capture':",
    "src/run/declarative/y.ts: kind: 'measure'",
    'src/run/declarative/y.ts: steps.agent',
    "src/run/declarative/y.ts: MEASURES['conntrack']",
  ]);
});

type Json = { properties?: Record<string, Json>; anyOf?: Json[]; $ref?: string; [k: string]: unknown };

/** The field names a JSON schema allows: its properties, and its alternatives'. */
function fields(s: Json, defs: Record<string, Json>): string[] {
  if (s.$ref) return fields(defs[s.$ref.replace('#/$defs/', '')]!, defs);
  const own = Object.keys(s.properties ?? {});
  return [...new Set([...own, ...(s.anyOf ?? []).flatMap((a) => fields(a, defs))])].sort();
}

test('schema/lab.schema.json describes every step and measure kind with the fields of its own schema', (t) => {
  const schema = JSON.parse(fs.readFileSync(path.join(root, 'schema', 'lab.schema.json'), 'utf8')) as Json & { $defs: Record<string, Json> };
  const declared = schema.properties!.scenario!.anyOf!.find((s) => s.properties?.steps)!;
  const stepItems = declared.properties!.steps!.items as Json;
  const kindsOfSteps = stepItems.anyOf![0]!.anyOf!;
  const { steps, measures } = declaredSchemas();
  const zodFields = (s: z.ZodType) => fields(z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Json, {});
  for (const kind of STEP_KINDS) {
    const entry = kindsOfSteps.find((s) => s.properties?.[kind]);
    t.truthy(entry, `step ${kind} is in the JSON schema`);
    t.deepEqual(Object.keys(entry!.properties!).sort(), [kind, 'when'].sort());
    const expected = zodFields(steps[kind]);
    t.true(expected.length > 0);
    t.deepEqual(fields(entry!.properties![kind]!, schema.$defs), expected, `step ${kind}'s fields`);
  }
  const conditions = (schema.$defs.declaredCondition!.anyOf ?? []).map((c) => Object.keys(c.properties ?? {}));
  for (const kind of MEASURE_KINDS) {
    const def = schema.$defs[`declaredMeasure-${kind}`];
    t.truthy(def, `measure ${kind} is in the JSON schema`);
    t.deepEqual(fields(def!, schema.$defs), zodFields(measures[kind]), `measure ${kind}'s fields`);
    t.true(
      conditions.some((c) => c.includes(kind) && c.includes('atLeast')),
      `a condition may count ${kind}`,
    );
  }
});
