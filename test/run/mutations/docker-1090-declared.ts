/**
 * docker-1090-declared: no run of it is recorded (test/fixtures/declarative/runs has none), so its bases are synthetic:
 * the numbers its rules count, taken from the coded docker-1090 recording of the same variant (same topology, same
 * +100000 trigger): injected = the server forged its segment, RSTs at the server = the server capture's count after it,
 * the client's received/sent = its echoes. The stored verdict is the lab file's expectation for that kernel. The
 * perturbations act on those numbers, through the lab file's own rules and the rule engine.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadLab } from '../../../src/lab/load.js';
import { parseDeclared } from '../../../src/lab/declared/parse.js';
import { splitDeclared } from '../../../src/lab/declared/validate.js';
import type { Measure, VerdictRules } from '../../../src/lab/declared/spec.js';
import { expectationFor } from '../../../src/lab/expect.js';
import { conditionMeasures, measureId, measureLabel, type Measured } from '../../../src/run/declarative/measure.js';
import { declaredScenario, declaredTopology } from '../../../src/run/declarative/scenario.js';
import type { OowEvidence } from '../../../src/run/scenarios/oow-rst-judge.js';
import type { VerdictValue } from '../../../src/run/verdict.js';
import { recorded } from '../recorded.js';
import { knownDefect, type Base, type Kind, type Perturbation, type Subject } from './harness.js';

const LAB = 'docker-1090-declared';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const lab = loadLab(path.join(root, 'labs', LAB));

interface Numbers {
  rules: VerdictRules;
  measures: Record<string, Measured>;
}

type Role = 'injected' | 'rsts' | 'received' | 'sent';

/** Which of the coded run's numbers a measure of the lab's rules counts. */
function roleOf(m: Measure): Role {
  if (m.kind === 'packets') return 'rsts';
  if (m.kind === 'agent' && 'counter' in m.spec && m.spec.name === 'injector') return 'injected';
  if (m.kind === 'agent' && 'counter' in m.spec && m.spec.name === 'client') return m.spec.counter === 'sent' ? 'sent' : 'received';
  throw new Error(`internal: ${LAB}'s rules count ${measureLabel(m)}, which the coded recording has no number for`);
}

const rolesOf = (rules: VerdictRules) => new Map(conditionMeasures(rules).map((m) => [measureId(m), { m, role: roleOf(m) }]));

function numbersFor(variant: string): Base<Numbers> {
  const v = lab.variants.find((x) => x.name === variant)!;
  const { raw, params } = splitDeclared(v.params);
  const { scenario, problems } = parseDeclared(raw, params, declaredTopology(lab));
  if (!scenario) throw new Error(`internal: ${LAB}/${variant}: ${problems.map((p) => p.message).join('; ')}`);
  const coded = recorded<OowEvidence>('docker-1090', variant).evidence;
  if (!coded.server.ok || !coded.client.ok) throw new Error(`internal: docker-1090/${variant} summaries parse`);
  const value: Record<Role, number> = {
    injected: coded.server.value.forged ? 1 : 0,
    rsts: coded.rstAtServer.fromPcap ?? 0,
    received: coded.client.value.echoed,
    sent: coded.client.value.sent,
  };
  const measures = Object.fromEntries([...rolesOf(scenario.verdict)].map(([id, { m, role }]) => [id, { label: measureLabel(m), value: value[role] }]));
  const expected = expectationFor(v.expect, coded.kernel)?.verdict;
  return {
    variant,
    evidence: { rules: scenario.verdict, measures },
    stored: (expected ?? 'unknown') as VerdictValue,
    synthetic: `the numbers of the coded docker-1090/${variant} recording (kernel ${coded.kernel}), counted as ${LAB}'s rules count them`,
  };
}

const bases = ['baseline', 'drop-invalid', 'be-liberal', 'no-nat'].map(numbersFor);

const setRole = (b: Base<Numbers>, role: Role, to: (n: Record<Role, number>) => number): Numbers => {
  const roles = rolesOf(b.evidence.rules);
  const now = Object.fromEntries([...roles].map(([id, { role: r }]) => [r, b.evidence.measures[id]!.value!])) as Record<Role, number>;
  const measures = Object.fromEntries(Object.entries(b.evidence.measures).map(([id, m]) => [id, roles.get(id)!.role === role ? { ...m, value: to(now) } : m]));
  return { ...b.evidence, measures };
};

const MISSING: Record<Role, { kind: Kind; why: string }> = {
  injected: { kind: 'agent-crashed', why: 'agent injector wrote no summary' },
  rsts: { kind: 'capture-dropped', why: 'capture at-server has no pcap file' },
  received: { kind: 'agent-crashed', why: 'agent client wrote no summary' },
  sent: { kind: 'agent-crashed', why: 'agent client wrote no summary' },
};

const missing: Array<Perturbation<Numbers>> = (Object.keys(MISSING) as Role[]).map((role) => ({
  kind: MISSING[role].kind,
  name: `the ${role} count missing (${MISSING[role].why})`,
  applies: () => true,
  apply: (b) => {
    const roles = rolesOf(b.evidence.rules);
    const measures = Object.fromEntries(
      Object.entries(b.evidence.measures).map(([id, m]) => [
        id,
        roles.get(id)!.role === role ? { label: m.label, value: null, missing: MISSING[role].why } : m,
      ]),
    );
    return { ...b.evidence, measures };
  },
}));

const stories: Array<Perturbation<Numbers>> = [
  {
    kind: 'mechanism-without-failure',
    name: 'a RST from the client host reached the server, the client got every echo',
    applies: () => true,
    apply: (b) => ({
      ...b.evidence,
      measures: setRole({ ...b, evidence: setRole(b, 'rsts', (n) => Math.max(1, n.rsts)) }, 'received', (n) => n.sent).measures,
    }),
  },
  {
    kind: 'failure-without-mechanism',
    name: 'no RST, the client got no echo',
    applies: () => true,
    apply: (b) => ({ ...b.evidence, measures: setRole({ ...b, evidence: setRole(b, 'rsts', () => 0) }, 'received', () => 0).measures }),
  },
];

export const docker1090Declared: Subject<Numbers> = {
  lab: LAB,
  bases,
  judge: (e) => declaredScenario.judge({ rules: e.rules, measures: e.measures }, {}),
  perturbations: [...missing, ...stories],
  knownDefects: {
    // The lab's REPRODUCED rule is "injected >= 1 and a RST at the server >= 1", with no condition on the client.
    ...knownDefect(
      LAB,
      ['baseline', 'drop-invalid', 'be-liberal', 'no-nat'],
      'a RST from the client host reached the server, the client got every echo',
      'labs/docker-1090-declared rules: REPRODUCED on a RST alone, the client outcome is not a condition',
    ),
  },
};
