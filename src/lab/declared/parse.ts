/**
 * From the raw `scenario: { params, steps, verdict }` of a lab file and one variant's parameters
 * to a checked DeclaredScenario, or every problem found (with paths into the lab file).
 */
import type { z } from 'zod';
import type { Path, Problem } from '../problems.js';
import { problemsFromZod } from '../zod-problems.js';
import { substitute } from './substitute.js';
import {
  COMPARATORS,
  MEASURE_KINDS,
  STEP_KINDS,
  declaredSchemas,
  type Comparator,
  type Condition,
  type DeclaredScenario,
  type Measure,
  type Phase,
  type Rule,
  type Step,
  type VerdictRules,
  conditionsAt,
  STEP_NAME,
  HEALTHY_MINIMUM,
  STATED_INCONCLUSIVE_KINDS,
  type StatedInconclusive,
} from './spec.js';
import { stepKindOf } from './steps/index.js';
import { CODED_MEASURE, measureKindOf } from './measures/index.js';
import type { CheckContext, DeclaredTopology } from './kind.js';

export type { DeclaredTopology, DockerHostTopology } from './kind.js';

export interface RawDeclared {
  params: Record<string, unknown>;
  steps: unknown[];
  verdict: unknown;
}

export function parseDeclared(
  raw: RawDeclared,
  params: Record<string, unknown>,
  topo: DeclaredTopology,
  base: Path = ['scenario'],
): { scenario?: DeclaredScenario; problems: Problem[] } {
  const problems: Problem[] = [];
  const builtins = Object.fromEntries(Object.entries(topo.addresses).map(([node, address]) => [`${node}.address`, address]));
  // A param's value may itself name an address: { bind: "${host.address}" }.
  const values = substitute(params, builtins, [...base, 'params'], problems) as Record<string, unknown>;
  const names: Record<string, unknown> = { ...values, ...builtins };
  const steps = substitute(raw.steps, names, [...base, 'steps'], problems) as unknown[];
  const verdictRaw = substitute(raw.verdict, names, [...base, 'verdict'], problems);
  if (problems.length) return { problems };

  const parsedSteps: Array<Step | Phase> = [];
  steps.forEach((item, i) => {
    const path = [...base, 'steps', i];
    if (isObject(item) && 'phase' in item) {
      const phase = item as { phase?: unknown; steps?: unknown };
      const extra = Object.keys(item).filter((k) => k !== 'phase' && k !== 'steps');
      for (const k of extra) problems.push({ path: [...path, k], message: `unknown key "${k}" (a phase has: phase, steps)` });
      if (typeof phase.phase !== 'string' || !STEP_NAME.test(phase.phase)) {
        problems.push({ path: [...path, 'phase'], message: 'expected a phase name: lowercase letters, digits and "-"' });
      }
      if (!Array.isArray(phase.steps) || phase.steps.length === 0) {
        problems.push({ path: [...path, 'steps'], message: 'expected a non-empty list of steps' });
        return;
      }
      const inner = phase.steps.flatMap((s, j) => parseStep(s, [...path, 'steps', j], problems));
      parsedSteps.push({ phase: String(phase.phase), steps: inner });
    } else {
      parsedSteps.push(...parseStep(item, path, problems));
    }
  });

  const verdict = parseVerdict(verdictRaw, [...base, 'verdict'], problems);
  if (problems.length || !verdict) return { problems };
  const known = `expected one of the scenario's params: ${Object.keys(params).join(', ') || '(none)'}`;
  const located = parsedSteps.flatMap((item, i) =>
    'phase' in item ? item.steps.map((s, j) => [s, [...base, 'steps', i, 'steps', j]] as const) : [[item, [...base, 'steps', i]] as const],
  );
  const whenProblems = located.flatMap(([s, path]) =>
    Object.keys(s.when ?? {})
      .filter((k) => !(k in params))
      .map((k) => ({ path: [...path, 'when', k], message: `found "${k}", ${known}` })),
  );
  if (whenProblems.length) return { problems: whenProblems };
  // Steps whose `when` does not match this variant's params are skipped (and not counted when names are checked).
  const mark = (s: Step): Step => (applies(s, params) ? s : { ...s, skip: true });
  const scenario: DeclaredScenario = { steps: parsedSteps.map((item) => ('phase' in item ? { ...item, steps: item.steps.map(mark) } : mark(item))), verdict };
  problems.push(...crossCheck(scenario, topo, base));
  return problems.length ? { problems } : { scenario, problems };
}

function parseStep(item: unknown, path: Path, problems: Problem[]): Step[] {
  if (!isObject(item)) {
    problems.push({ path, message: `expected a step: a mapping with one of ${STEP_KINDS.join(', ')} (or phase)` });
    return [];
  }
  const keys = Object.keys(item).filter((k) => k !== 'when');
  const kinds = keys.filter((k) => (STEP_KINDS as readonly string[]).includes(k));
  if (kinds.length !== 1 || keys.length !== 1) {
    const unknown = keys.filter((k) => !(STEP_KINDS as readonly string[]).includes(k));
    const found = unknown.length ? `unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}` : `${kinds.length} step kinds`;
    problems.push({ path, message: `${found}; a step has exactly one of: ${STEP_KINDS.join(', ')} (and optionally when)` });
    return [];
  }
  const kind = kinds[0] as Step['kind'];
  const when = item.when;
  if (when !== undefined && (!isObject(when) || Object.values(when).some((v) => typeof v === 'object'))) {
    problems.push({ path: [...path, 'when'], message: 'expected a mapping of parameter names to values, e.g. when: { proto: udp }' });
    return [];
  }
  const parsed = parseWith(declaredSchemas().steps[kind], item[kind], [...path, kind], problems);
  const more = stepKindOf(kind).parse;
  const spec = parsed !== undefined && more ? more(parsed, (schema, value, at) => parseWith(schema, value, at, problems), [...path, kind]) : parsed;
  if (spec === undefined) return [];
  return [{ kind, spec, ...(when ? { when: when as Record<string, string> } : {}) } as Step];
}

const VERDICT_KEYS = ['reproduced', 'notReproduced', 'failure', 'mechanism', 'inconclusive'];

/**
 * The verdict rules of a coded scenario's lab file (scenario.verdict): the same language, over the numbers the scenario
 * computes. `names` are those it declares (Scenario.measureNames); any other measure kind is refused.
 */
export function parseCodedVerdict(raw: unknown, names: string[], path: Path = ['scenario', 'verdict']): { rules?: VerdictRules; problems: Problem[] } {
  const problems: Problem[] = [];
  const rules = parseVerdict(raw, path, problems);
  if (!rules) return { problems };
  const lists: Array<[Rule[], Path]> = [
    [rules.reproduced, [...path, 'reproduced']],
    [rules.notReproduced, [...path, 'notReproduced', 'when']],
    [rules.healthy, [...path, 'notReproduced', 'healthy']],
    [rules.mechanism?.when ?? [], [...path, 'mechanism', 'when']],
    ...(rules.inconclusive ?? []).map((s, i): [Rule[], Path] => [s.when, [...path, 'inconclusive', i, 'when']]),
  ];
  const known = names.join(', ') || '(none)';
  for (const [list, at] of lists) {
    for (const [c, p] of conditionsAt(list, at)) {
      for (const [m, mp] of [[c.measure, p], ...(typeof c.than === 'number' ? [] : [[c.than, [...p, c.op]] as const])] as const) {
        if (m.kind !== CODED_MEASURE)
          problems.push({
            path: [...mp, m.kind],
            message: `found ${m.kind}, expected ${CODED_MEASURE}: a coded scenario's rules use its own measures: ${known}`,
          });
        else if (!names.includes(m.spec))
          problems.push({ path: [...mp, CODED_MEASURE], message: `found "${m.spec}", expected one of the scenario's measures: ${known}` });
      }
    }
  }
  return problems.length ? { problems } : { rules, problems };
}

function parseVerdict(raw: unknown, path: Path, problems: Problem[]): DeclaredScenario['verdict'] | undefined {
  if (!isObject(raw)) {
    problems.push({ path, message: 'expected a mapping with reproduced and notReproduced' });
    return undefined;
  }
  for (const k of Object.keys(raw)) {
    const message = `unknown key "${k}" (expected one of: ${VERDICT_KEYS.join(', ')})`;
    if (!VERDICT_KEYS.includes(k)) problems.push({ path: [...path, k], message });
  }
  const failure =
    raw.failure === undefined
      ? undefined
      : words(raw.failure, [...path, 'failure'], problems, 'the failure the application sees, e.g. "replies never reach the client"');
  const mechanism = raw.mechanism === undefined ? undefined : parseMechanism(raw.mechanism, [...path, 'mechanism'], problems);
  const reproduced = rulesList(raw.reproduced, [...path, 'reproduced'], problems);
  const nr = raw.notReproduced;
  if (!isObject(nr)) {
    const message = 'expected a mapping with when (the bug did not happen) and healthy (evidence that traffic flowed)';
    problems.push({ path: [...path, 'notReproduced'], message });
    return undefined;
  }
  for (const k of Object.keys(nr)) {
    if (k !== 'when' && k !== 'healthy') problems.push({ path: [...path, 'notReproduced', k], message: `unknown key "${k}" (expected one of: when, healthy)` });
  }
  const when = rulesList(nr.when, [...path, 'notReproduced', 'when'], problems);
  const needsHealthy = 'NOT_REPRODUCED needs positive evidence that the traffic flowed, e.g. { agent: { name: client, counter: received }, atLeast: 1 }';
  const healthy = conditions(nr.healthy, [...path, 'notReproduced', 'healthy'], problems, needsHealthy);
  healthy?.forEach((c, i) => positiveEvidence(c, [...path, 'notReproduced', 'healthy', i], problems));
  const inconclusive = raw.inconclusive === undefined ? undefined : parseStatedInconclusive(raw.inconclusive, [...path, 'inconclusive'], problems);
  if (!reproduced || !when || !healthy || (raw.failure !== undefined && !failure) || (raw.mechanism !== undefined && !mechanism)) return undefined;
  if (raw.inconclusive !== undefined && !inconclusive) return undefined;
  return {
    reproduced,
    notReproduced: when,
    healthy,
    ...(failure ? { failure } : {}),
    ...(mechanism ? { mechanism } : {}),
    ...(inconclusive ? { inconclusive } : {}),
  };
}

/** `inconclusive: [{ kind: emulation-gap, because: "...", when: [conditions] }]`: the cases a lab says it cannot decide. */
function parseStatedInconclusive(raw: unknown, path: Path, problems: Problem[]): StatedInconclusive[] | undefined {
  const what = 'expected a non-empty list of { kind, because, when }: the cases the lab cannot decide';
  if (!Array.isArray(raw) || raw.length === 0) {
    problems.push({ path, message: what });
    return undefined;
  }
  const kinds = STATED_INCONCLUSIVE_KINDS as readonly string[];
  const out = raw.map((s, i): StatedInconclusive | undefined => {
    const at = [...path, i];
    if (!isObject(s)) {
      problems.push({ path: at, message: what });
      return undefined;
    }
    for (const k of Object.keys(s)) {
      if (!['kind', 'because', 'when'].includes(k)) problems.push({ path: [...at, k], message: `unknown key "${k}" (expected one of: kind, because, when)` });
    }
    const kind = typeof s.kind === 'string' && kinds.includes(s.kind) ? (s.kind as StatedInconclusive['kind']) : undefined;
    if (!kind) problems.push({ path: [...at, 'kind'], message: `expected one of: ${kinds.join(', ')}` });
    const because = words(s.because, [...at, 'because'], problems, 'why the lab cannot decide then, e.g. "the forwarder of the report is not run here"');
    const when = rulesList(s.when, [...at, 'when'], problems);
    return kind && because && when ? { kind, because, when } : undefined;
  });
  return out.every((s): s is StatedInconclusive => s !== undefined) ? out : undefined;
}

/** A healthy condition must require a count above 0: "atLeast: 0" or "atMost: 5" hold when nothing flowed. */
function positiveEvidence(c: Condition, path: Path, problems: Problem[]): void {
  const rule = HEALTHY_MINIMUM[c.op];
  const hint =
    'a healthy condition must require positive evidence, a count above 0: atLeast or equals a number above 0, above a number of 0 or more, or atLeast, equals or above another measure';
  if (!rule) problems.push({ path: [...path, c.op], message: `found ${c.op}, which holds when nothing flowed: ${hint}` });
  else if (typeof c.than === 'number' && (rule.strict ? c.than <= rule.min : c.than < rule.min)) {
    problems.push({ path: [...path, c.op], message: `found ${c.op}: ${c.than}, which holds when nothing flowed: ${hint}` });
  }
}

function parseMechanism(raw: unknown, path: Path, problems: Problem[]): { name: string; when: Rule[] } | undefined {
  if (!isObject(raw)) {
    problems.push({ path, message: 'expected a mapping with name (the mechanism, in words) and when (the conditions that show it)' });
    return undefined;
  }
  for (const k of Object.keys(raw)) {
    if (k !== 'name' && k !== 'when') problems.push({ path: [...path, k], message: `unknown key "${k}" (expected one of: name, when)` });
  }
  const name = words(raw.name, [...path, 'name'], problems, 'the mechanism, e.g. "replies leave from docker0\'s address"');
  const when = rulesList(raw.when, [...path, 'when'], problems);
  return name && when ? { name, when } : undefined;
}

/** Words a reason or a report repeats: 1 to 200 characters on one line, not blank. */
function oneLine(raw: unknown): raw is string {
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  return typeof raw === 'string' && raw.trim().length > 0 && raw.length <= 200 && !/[\x00-\x1f\x7f]/.test(raw);
}

function words(raw: unknown, path: Path, problems: Problem[], what: string): string | undefined {
  if (oneLine(raw)) return raw.trim();
  problems.push({ path, message: `expected a short text on one line (1 to 200 characters): ${what}` });
  return undefined;
}

function conditions(raw: unknown, path: Path, problems: Problem[], why = 'expected a non-empty list of conditions'): Condition[] | undefined {
  if (!Array.isArray(raw) || raw.length === 0) {
    problems.push({ path, message: raw === undefined ? `missing: ${why}` : why });
    return undefined;
  }
  const out: Condition[] = [];
  raw.forEach((c, i) => {
    const cond = parseCondition(c, [...path, i], problems);
    if (cond) out.push(cond);
  });
  return out.length === raw.length ? out : undefined;
}

/** Conditions that must all hold, each a condition, `{ anyOf: [rules] }` or `{ allOf: [rules] }` (healthy evidence takes neither). */
function rulesList(raw: unknown, path: Path, problems: Problem[]): Rule[] | undefined {
  if (!Array.isArray(raw) || raw.length === 0) {
    const why = 'expected a non-empty list of conditions';
    problems.push({ path, message: raw === undefined ? `missing: ${why}` : why });
    return undefined;
  }
  const out = raw.map((c, i) => parseRule(c, [...path, i], problems));
  return out.every((r): r is Rule => r !== undefined) ? out : undefined;
}

const GROUPS = { anyOf: 'any of which holds', allOf: 'all of which hold' } as const;

function parseRule(raw: unknown, path: Path, problems: Problem[]): Rule | undefined {
  const key = isObject(raw) ? (Object.keys(GROUPS) as Array<keyof typeof GROUPS>).find((k) => k in raw) : undefined;
  if (!key || !isObject(raw)) return parseCondition(raw, path, problems);
  const extra = Object.keys(raw).filter((k) => k !== key);
  for (const k of extra) problems.push({ path: [...path, k], message: `unknown key "${k}" (${key} stands alone: { ${key}: [conditions] })` });
  const list = raw[key];
  if (!Array.isArray(list) || list.length < 2) {
    problems.push({ path: [...path, key], message: `expected a list of at least 2 conditions, ${GROUPS[key]}` });
    return undefined;
  }
  const parts = rulesList(list, [...path, key], problems);
  if (!parts || extra.length) return undefined;
  return key === 'anyOf' ? { anyOf: parts } : { allOf: parts };
}

function parseCondition(raw: unknown, path: Path, problems: Problem[]): Condition | undefined {
  const comparators = Object.keys(COMPARATORS);
  if (!isObject(raw)) {
    problems.push({ path, message: `expected a condition: one of ${MEASURE_KINDS.join(', ')} and one of ${comparators.join(', ')}` });
    return undefined;
  }
  const unknown = Object.keys(raw).filter((k) => !(MEASURE_KINDS as readonly string[]).includes(k) && !comparators.includes(k) && k !== 'as');
  const shape = `a condition has one of ${MEASURE_KINDS.join(', ')}, one of ${comparators.join(', ')}, and optionally as`;
  for (const k of unknown) problems.push({ path: [...path, k], message: `unknown key "${k}" (${shape})` });
  const ops = Object.keys(raw).filter((k) => comparators.includes(k)) as Comparator[];
  if (ops.length !== 1) {
    problems.push({ path, message: `expected exactly one comparison (${comparators.join(', ')}), found ${ops.length}` });
    return undefined;
  }
  if (raw.as !== undefined && !oneLine(raw.as)) {
    problems.push({
      path: [...path, 'as'],
      message: 'expected a short text on one line (1 to 200 characters) naming what is counted, e.g. "replies reached the client"',
    });
  }
  const measure = parseMeasure(raw, path, problems);
  const op = ops[0]!;
  const rhs = raw[op];
  const than = typeof rhs === 'number' ? rhs : parseMeasure(rhs, [...path, op], problems);
  if (!measure || than === undefined || unknown.length) return undefined;
  return { measure: raw.as ? { ...measure, as: raw.as as string } : measure, op, than };
}

function parseMeasure(raw: unknown, path: Path, problems: Problem[]): Measure | undefined {
  const kinds = isObject(raw) ? Object.keys(raw).filter((k) => (MEASURE_KINDS as readonly string[]).includes(k)) : [];
  if (!isObject(raw) || kinds.length !== 1) {
    problems.push({ path, message: `expected a number or exactly one of: ${MEASURE_KINDS.join(', ')}` });
    return undefined;
  }
  const kind = kinds[0] as Measure['kind'];
  const spec = parseWith(declaredSchemas().measures[kind], raw[kind], [...path, kind], problems);
  return spec === undefined ? undefined : ({ kind, spec } as Measure);
}

function parseWith<T extends z.ZodType>(schema: T, value: unknown, path: Path, problems: Problem[]): z.output<T> | undefined {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  problems.push(...problemsFromZod(schema, parsed.error.issues, value, path));
  return undefined;
}

/** Whether a step's `when` matches a variant's params. */
export function applies(step: Step, params: Record<string, unknown>): boolean {
  return Object.entries(step.when ?? {}).every(([k, v]) => String(params[k]) === String(v));
}

/** Names used before they exist, nodes that are not in the lab, duplicate names: each kind checks its own. */
function crossCheck(scenario: DeclaredScenario, topo: DeclaredTopology, base: Path): Problem[] {
  const problems: Problem[] = [];
  const c = checkContext(topo, problems);
  const visit = (step: Step, path: Path) => {
    if (step.skip) return;
    stepKindOf(step.kind).check(step.spec, c, [...path, step.kind]);
  };
  scenario.steps.forEach((item, i) => {
    if ('phase' in item) {
      c.declare('phase', item.phase, [...base, 'steps', i, 'phase']);
      item.steps.forEach((s, j) => visit(s, [...base, 'steps', i, 'steps', j]));
    } else visit(item, [...base, 'steps', i]);
  });
  const checkMeasure = (m: Measure, path: Path) => {
    const at = [...path, m.kind];
    const phase = typeof m.spec === 'object' && 'phase' in m.spec ? m.spec.phase : undefined;
    if (phase) c.known('phase', phase, 'a phase', [...at, 'phase']);
    measureKindOf(m.kind).check(m.spec, c, at);
  };
  const rules: Array<[Rule[], Path]> = [
    [scenario.verdict.reproduced, [...base, 'verdict', 'reproduced']],
    [scenario.verdict.notReproduced, [...base, 'verdict', 'notReproduced', 'when']],
    [scenario.verdict.healthy, [...base, 'verdict', 'notReproduced', 'healthy']],
    [scenario.verdict.mechanism?.when ?? [], [...base, 'verdict', 'mechanism', 'when']],
    ...(scenario.verdict.inconclusive ?? []).map((s, i): [Rule[], Path] => [s.when, [...base, 'verdict', 'inconclusive', i, 'when']]),
  ];
  for (const [list, path] of rules) {
    for (const [cond, p] of conditionsAt(list, path)) {
      checkMeasure(cond.measure, p);
      if (typeof cond.than !== 'number') checkMeasure(cond.than, [...p, cond.op]);
    }
  }
  return problems;
}

/** Names declared by earlier steps, by space ("capture", "agent", "phase", ...), with what each declared. */
function checkContext(topo: DeclaredTopology, problems: Problem[]): CheckContext {
  const spaces = new Map<string, Map<string, unknown>>();
  const space = (name: string) => spaces.get(name) ?? spaces.set(name, new Map()).get(name)!;
  const states = new Map<string, unknown>();
  return {
    topo,
    problem: (path, message) => void problems.push({ path, message }),
    node(name, path) {
      if (!topo.nodes.includes(name)) problems.push({ path, message: `found "${name}", expected a node or container of this lab: ${topo.nodes.join(', ')}` });
    },
    declare(within, name, path, data) {
      const names = space(within);
      if (names.has(name)) problems.push({ path, message: `${within} "${name}" is declared twice` });
      names.set(name, data);
    },
    known(within, name, what, path) {
      const names = space(within);
      if (!names.has(name))
        problems.push({ path, message: `found "${name}", expected ${what} declared by an earlier step: ${[...names.keys()].join(', ') || '(none)'}` });
    },
    data: (within, name) => spaces.get(within)?.get(name),
    state<T>(key: string, init: () => T): T {
      if (!states.has(key)) states.set(key, init());
      return states.get(key) as T;
    },
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
