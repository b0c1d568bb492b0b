/**
 * The verdict of a declared scenario, from its rules and the measured numbers alone. Missing
 * evidence anywhere in the rules, both rules holding, or neither holding is INCONCLUSIVE. The reason
 * is generated from the conditions and their numbers.
 */
import { COMPARATORS, ruleParts, type Condition, type Rule, type VerdictRules } from '../../lab/declared/spec.js';
import { verdict, type MechanismFacet, type OutcomeFacet, type Verdict } from '../verdict.js';
import { measureId, measureLabel, type Measured } from './measure.js';

const WORDS = { atLeast: 'at least', atMost: 'at most', equals: 'exactly', below: 'fewer than', above: 'more than' } as const;

interface Checked {
  holds: boolean;
  text: string;
  ids: string[];
}

/** The outcome facet's words when a lab file does not name its failure. */
export const UNNAMED_FAILURE = 'the failure the reproduced rule describes (the lab file names none: verdict.failure)';

export function judgeRules(rules: VerdictRules, measures: Record<string, Measured>): Verdict {
  const decided = decideRules(rules, measures);
  const check = checker(measures);
  const outcome: OutcomeFacet = {
    failure: rules.failure ?? UNNAMED_FAILURE,
    seen: decided.verdict === 'REPRODUCED' ? true : decided.verdict === 'NOT_REPRODUCED' ? false : null,
    detail: decided.reason,
  };
  if (!rules.mechanism) return { ...decided, outcome };
  const gone = rules.mechanism.when.flatMap((c) => sides(c).flatMap((id) => measures[id]?.missing ?? (measures[id] ? [] : ['a measure was not taken'])));
  const shown = gone.length ? undefined : rules.mechanism.when.map(check);
  const seen = shown ? shown.every((c) => c.holds) : null;
  const mechanism: MechanismFacet = { name: rules.mechanism.name, seen, detail: shown ? texts(shown) : `evidence missing: ${[...new Set(gone)].join('; ')}` };
  const reason =
    decided.verdict === 'NOT_REPRODUCED' && seen
      ? `${decided.reason}; the mechanism (${mechanism.name}) was seen without the failure: ${mechanism.detail}`
      : decided.reason;
  return { ...decided, reason, outcome, mechanism };
}

function decideRules(rules: VerdictRules, measures: Record<string, Measured>): Verdict {
  const stated = rules.inconclusive ?? [];
  const all = [...rules.reproduced, ...rules.notReproduced, ...rules.healthy, ...stated.flatMap((s) => s.when)];
  const why = (m: Measured | undefined) => (!m ? ['a measure was not taken'] : m.missing ? [m.missing] : []);
  const missing = [...new Set(all.flatMap((c) => sides(c).flatMap((id) => why(measures[id]))))];
  if (missing.length) return verdict('INCONCLUSIVE', `evidence missing: ${missing.join('; ')}`, ['missing']);

  const check = checker(measures);
  // A case the lab file says it cannot decide comes first: the other rules may hold there, and would claim too much.
  for (const s of stated) {
    const shown = s.when.map(check);
    if (shown.every((c) => c.holds)) return verdict('INCONCLUSIVE', `${s.because}: ${texts(shown)}`, [...new Set(shown.flatMap((c) => c.ids))], s.kind);
  }
  // Healthy evidence is positive: a count of 0 never shows that traffic flowed, whatever it is compared with.
  const positive = (c: Condition): Checked => {
    const r = check(c);
    const value = measures[measureId(c.measure)]!.value!;
    return value > 0 ? r : { ...r, holds: false, text: r.holds ? `${r.text}, needed more than 0` : r.text };
  };
  const rep = rules.reproduced.map(check);
  const nr = rules.notReproduced.map(check);
  const ok = rules.healthy.map(positive);
  const repHolds = rep.every((c) => c.holds);
  const nrHolds = nr.every((c) => c.holds) && ok.every((c) => c.holds);
  const ids = (cs: Checked[]) => [...new Set(cs.flatMap((c) => c.ids))];
  const failed = (cs: Checked[]) => texts(cs.filter((c) => !c.holds));

  if (repHolds && nrHolds) {
    const reason = `both rules hold, the evidence contradicts itself: ${texts(rep)}; and ${texts([...nr, ...ok])}`;
    return verdict('INCONCLUSIVE', reason, ids([...rep, ...nr, ...ok]), 'evidence-conflict');
  }
  if (repHolds) return verdict('REPRODUCED', texts(rep), ids(rep));
  if (nrHolds) return verdict('NOT_REPRODUCED', `${texts(nr)}; traffic flowed: ${texts(ok)}`, ids([...nr, ...ok]));
  const whyNot = [failed(nr), failed(ok)].filter(Boolean).join('; ');
  return verdict('INCONCLUSIVE', `neither rule holds: for REPRODUCED ${failed(rep)}; for NOT_REPRODUCED ${whyNot}`, ids([...rep, ...nr, ...ok]));
}

const texts = (cs: Checked[]) => cs.map((c) => c.text).join('; ');

function checker(measures: Record<string, Measured>): (r: Rule) => Checked {
  const one = conditionChecker(measures);
  const check = (r: Rule, nested = false): Checked => {
    const group = ruleParts(r);
    if (!group) return one(r as Condition);
    const each = group.parts.map((p) => check(p, true));
    const ids = [...new Set(each.flatMap((c) => c.ids))];
    if (group.key === 'allOf') {
      const holds = each.every((c) => c.holds);
      const text = each.map((c) => c.text).join(' and ');
      return { holds, text: nested ? `(${text})` : text, ids };
    }
    const held = each.filter((c) => c.holds);
    // A holding anyOf cites what held; a failing one, every alternative and why each failed.
    return held.length ? { holds: true, text: texts(held), ids } : { holds: false, text: `none of: ${each.map((c) => c.text).join(' or ')}`, ids };
  };
  return (r: Rule) => check(r);
}

function conditionChecker(measures: Record<string, Measured>) {
  return (c: Condition): Checked => {
    // Labels come from the condition: two conditions may count the same thing under different words.
    const lhs = { value: measures[measureId(c.measure)]!.value, label: measureLabel(c.measure) };
    const rhs = typeof c.than === 'number' ? { value: c.than, label: '' } : { value: measures[measureId(c.than)]!.value, label: measureLabel(c.than) };
    const holds = compare(lhs.value!, c.op, rhs.value!);
    let text = `${lhs.value} ${lhs.label}`;
    if (typeof c.than !== 'number') text += holds ? ` (${rhs.label}: ${rhs.value})` : `, needed ${WORDS[c.op]} ${rhs.label} (${rhs.value})`;
    else if (!holds) text += `, needed ${WORDS[c.op]} ${c.than}`;
    return { holds, text, ids: sides(c) };
  };
}

function sides(r: Rule): string[] {
  const group = ruleParts(r);
  if (group) return group.parts.flatMap(sides);
  const c = r as Condition;
  return typeof c.than === 'number' ? [measureId(c.measure)] : [measureId(c.measure), measureId(c.than)];
}

export function compare(a: number, op: keyof typeof COMPARATORS, b: number): boolean {
  switch (op) {
    case 'atLeast':
      return a >= b;
    case 'atMost':
      return a <= b;
    case 'equals':
      return a === b;
    case 'below':
      return a < b;
    case 'above':
      return a > b;
  }
}
