/**
 * Judge mutation tests: a recorded run's evidence, perturbed the way real runs break (a capture lost, an agent
 * crashed, clocks apart, the agent and the capture telling different stories), must give the right verdict or
 * INCONCLUSIVE, never a decided verdict the evidence no longer supports. Each kind of perturbation states its property
 * once, here; the per-lab files say which perturbations apply to which recording and how each one is made.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { InconclusiveKind, Verdict, VerdictValue } from '../../../src/run/verdict.js';

interface Property {
  /** The property, as the test title states it. */
  says: string;
  holds(perturbed: VerdictValue, unperturbed: VerdictValue): boolean;
  /** The kind the perturbed verdict's INCONCLUSIVE must have, where the property names one. */
  kind?: InconclusiveKind;
}

const inconclusive = (v: VerdictValue) => v === 'INCONCLUSIVE';
const unchangedOrInconclusive = (v: VerdictValue, before: VerdictValue) => v === 'INCONCLUSIVE' || v === before;

export const PROPERTIES = {
  'capture-dropped': { says: 'capture dropped, missing or unreadable -> INCONCLUSIVE', holds: inconclusive },
  'capture-empty': { says: 'capture emptied (zero packets on a link the run shows carried traffic) -> INCONCLUSIVE', holds: inconclusive },
  'capture-unproven': {
    says: "capture not proven live (tcpdump's statistics missing, drops, or not the file's packet count) -> INCONCLUSIVE",
    holds: inconclusive,
  },
  'agent-capture-disagree': { says: 'agent and capture disagree -> INCONCLUSIVE', holds: inconclusive },
  'agents-disagree': { says: 'two agents disagree (more received than was sent) -> INCONCLUSIVE', holds: inconclusive },
  'mechanism-without-failure': {
    says: 'mechanism seen (RST, denial, lost binding) but the application intact -> never REPRODUCED',
    holds: (v) => v !== 'REPRODUCED',
  },
  'completed-with-rst': { says: 'download completed with the right sha256, with a RST -> never REPRODUCED', holds: (v) => v !== 'REPRODUCED' },
  'failure-without-mechanism': { says: 'the application failed -> never NOT_REPRODUCED', holds: (v) => v !== 'NOT_REPRODUCED' },
  'fault-after-use': {
    says: 'the fault injected only after the application stopped using the connection -> never NOT_REPRODUCED',
    holds: (v) => v !== 'NOT_REPRODUCED',
  },
  'snapshot-failed': { says: 'a snapshot or command the verdict rests on failed -> INCONCLUSIVE', holds: inconclusive },
  'side-evidence-failed': {
    says: 'a snapshot, counter or agent the verdict does not rest on failed -> the unperturbed verdict or INCONCLUSIVE',
    holds: unchangedOrInconclusive,
  },
  'clock-skew': { says: 'clocks skewed -> the unperturbed verdict or INCONCLUSIVE', holds: unchangedOrInconclusive },
  'agent-crashed': { says: 'an agent the verdict rests on crashed (no summary) -> INCONCLUSIVE', holds: inconclusive },
  'summary-unparsable': { says: 'summary unparsable -> INCONCLUSIVE', holds: inconclusive },
  'precondition-unmet': {
    says: "the run never reached the state the failure needs (the lab's precondition did not occur) -> INCONCLUSIVE, evidence-missing",
    holds: inconclusive,
    kind: 'evidence-missing',
  },
} satisfies Record<string, Property>;

export type Kind = keyof typeof PROPERTIES;

/** One run to perturb: a recording (test/fixtures/runs, test/fixtures/declarative/runs) or a fixture of our own. */
export interface Base<E> {
  variant: string;
  evidence: E;
  /** The verdict stored with it: the unperturbed evidence must still give it, or the perturbations test nothing. */
  stored: VerdictValue;
  /** The evidence as recorded, when `evidence` was brought up to date from the recorded artifacts (fields added since). */
  recorded?: E;
  /** Set on a recording whose derived fields an older analysis computed: why they are not compared with today's. */
  analysedBefore?: string;
  /** Set on a fixture that is not a recording: what it is and how it was made. */
  synthetic?: string;
}

/** A scratch folder for perturbations that rewrite files (an emptied pcap, a truncated log); removed after the case. */
export interface Scratch {
  dir: string;
}

export interface Perturbation<E> {
  kind: Kind;
  /** What was done, e.g. "server-eth0.pcap emptied". */
  name: string;
  /**
   * The evidence keys the perturbed verdict must be decided by: set where another check would give the same verdict,
   * so that the case fails when the judge's own check for this perturbation is gone.
   */
  decidedBy?: string[];
  /** Sync, so the cases are known (and counted) before any runs: false when there is nothing to perturb in this run. */
  applies(base: Base<E>): boolean;
  apply(base: Base<E>, scratch: Scratch): E | Promise<E>;
}

export interface Subject<E> {
  lab: string;
  bases: Array<Base<E>>;
  judge(evidence: E, base: Base<E>, scratch: Scratch): Verdict | Promise<Verdict>;
  perturbations: Array<Perturbation<E>>;
  /**
   * The evidence computed again from the recorded artifacts the way the run computes it, where perturbations go through
   * that computation: on every field the recording has, it must equal the recorded evidence, or the perturbed evidence is
   * not what a run would record.
   */
  rederive?(base: Base<E>): Promise<E>;
  /**
   * Cases a judge fails today, by case id ("<lab>/<variant>: <perturbation>"), with the defect. Each runs as
   * test.failing: the suite stays green, the defect stays visible, and the day the judge is fixed the case fails
   * until its entry is removed.
   */
  knownDefects?: Record<string, string>;
}

/** `value` cut to the fields `shape` has: a recording made before a field was added is compared on the fields it has. */
function shapedLike(value: unknown, shape: unknown): unknown {
  if (!value || !shape || typeof value !== 'object' || typeof shape !== 'object' || Array.isArray(shape)) return value;
  const v = value as Record<string, unknown>;
  return Object.fromEntries(Object.entries(shape).map(([k, s]) => [k, shapedLike(v[k], s)]));
}

const counted = new Map<string, number>();

export const caseId = (lab: string, variant: string, name: string) => `${lab}/${variant}: ${name}`;

/** Known-defect entries for the named cases, one per variant listed: `...knownDefect(LAB, ['baseline'], 'x emptied', 'why')`. */
export function knownDefect(lab: string, variants: string[], name: string, defect: string): Record<string, string> {
  return Object.fromEntries(variants.map((v) => [caseId(lab, v, name), defect]));
}

function scratch(t: ExecutionContext): Scratch {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-mutation-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return { dir };
}

/** Registers the subject's cases: each base unperturbed, then every applicable perturbation of it. */
export function registerSubject<E>(subject: Subject<E>): void {
  const { lab } = subject;
  const unused = new Set(Object.keys(subject.knownDefects ?? {}));
  test(`${lab}: at least one unperturbed run gives a decided verdict, so the properties are not vacuous`, async (t) => {
    const verdicts = await Promise.all(subject.bases.map(async (b) => (await subject.judge(b.evidence, b, scratch(t))).verdict));
    t.true(
      verdicts.some((v) => v !== 'INCONCLUSIVE'),
      verdicts.join(', '),
    );
  });
  for (const base of subject.bases) {
    const label = `${lab}/${base.variant}${base.synthetic ? ' (synthetic)' : ''}`;
    test(`${label}: unperturbed, the judge gives the stored verdict ${base.stored}`, async (t) => {
      const v = await subject.judge(base.evidence, base, scratch(t));
      t.is(v.verdict, base.stored, v.reason);
    });
    const { rederive } = subject;
    if (rederive && !base.synthetic && !base.analysedBefore) {
      test(`${label}: computed again from its recorded artifacts, the evidence is the recorded one`, async (t) => {
        const stored = base.recorded ?? base.evidence;
        t.deepEqual(shapedLike(await rederive(base), stored), stored);
      });
    }
    for (const p of subject.perturbations) {
      if (!p.applies(base)) continue;
      const id = caseId(lab, base.variant, p.name);
      const defect = subject.knownDefects?.[id];
      unused.delete(id);
      const property = PROPERTIES[p.kind];
      const title = `${id} [${property.says}]${defect ? ` KNOWN DEFECT: ${defect}` : ''}`;
      (defect ? test.failing : test)(title, async (t) => {
        const s = scratch(t);
        const before = (await subject.judge(base.evidence, base, s)).verdict;
        const perturbed = await p.apply(base, s);
        t.notDeepEqual(perturbed, base.evidence, 'the perturbation changed nothing');
        const after = await subject.judge(perturbed, base, s);
        t.log(`${before} -> ${after.verdict}: ${after.reason}`);
        t.true(property.holds(after.verdict, before), `${property.says}; unperturbed ${before}, perturbed ${after.verdict}: ${after.reason}`);
        const { kind } = property as Property;
        if (kind) t.is(after.inconclusive, kind, `the INCONCLUSIVE's kind: ${after.reason}`);
        if (p.decidedBy) t.deepEqual(after.decidedBy, p.decidedBy, `decided by: ${after.reason}`);
      });
      counted.set(lab, (counted.get(lab) ?? 0) + 1);
    }
  }
  test(`${lab}: every known defect names a case that runs`, (t) => t.deepEqual([...unused], []));
}

/** The last test of the suite: how many perturbations ran, per lab and in all. */
export function registerCount(minimum: number): void {
  test(`at least ${minimum} perturbations run`, (t) => {
    const total = [...counted.values()].reduce((a, b) => a + b, 0);
    t.log(`${total} perturbations: ${[...counted].map(([lab, n]) => `${lab} ${n}`).join(', ')}`);
    console.log(`judge mutations: ${total} perturbations (${[...counted].map(([lab, n]) => `${lab} ${n}`).join(', ')})`);
    t.true(total >= minimum, `${total} perturbations`);
  });
}
