/**
 * Declared labs (the rule engine: measure.ts counts from the saved artifacts, rules.ts decides): perturbations of a
 * recorded run's artifacts and records, measured again and judged. Which artifacts the verdict rests on is read from the
 * lab's own rules: a capture, snapshot or agent the rules count is decisive; one they do not is side evidence.
 */
import fs from 'node:fs';
import path from 'node:path';
import { conditionMeasures, measureAll, type Measured } from '../../../src/run/declarative/measure.js';
import { declaredScenario } from '../../../src/run/declarative/scenario.js';
import type { Recorded } from '../../../src/run/declarative/steps.js';
import type { VerdictRules } from '../../../src/lab/declared/spec.js';
import type { VerdictValue } from '../../../src/run/verdict.js';
import type { Base, Kind, Perturbation, Scratch, Subject } from './harness.js';
import { clone, emptyPcap, foreignPcap, shiftLog, shiftPcap } from './faults.js';

export interface DeclaredEvidence {
  rules: VerdictRules;
  recorded: Recorded;
  measures: Record<string, Measured>;
  [key: string]: unknown;
}

export interface DeclaredRun {
  evidence: DeclaredEvidence;
  /** The folder the artifact paths in `recorded` are relative to. */
  root: string;
}

export function declaredBases(runs: string): Array<Base<DeclaredRun>> {
  return fs
    .readdirSync(runs)
    .filter((v) => fs.existsSync(path.join(runs, v, 'evidence.json')))
    .map((variant) => {
      const saved = JSON.parse(fs.readFileSync(path.join(runs, variant, 'evidence.json'), 'utf8')) as { verdict: VerdictValue; evidence: DeclaredEvidence };
      return { variant, evidence: { evidence: saved.evidence, root: runs }, stored: saved.verdict };
    });
}

export async function judgeDeclared(run: DeclaredRun) {
  const measures = await measureAll(run.evidence.rules, run.evidence.recorded, run.root);
  return declaredScenario.judge({ ...run.evidence, measures }, {});
}

/** What the rules count: the captures, snapshots and agents their measures read, and whether any counts within a phase. */
export function readByRules(rules: VerdictRules) {
  const measures = conditionMeasures(rules);
  const named = (kind: string) =>
    new Set(measures.flatMap((m) => (m.kind === kind ? [(m.spec as { capture?: string; name?: string }).capture ?? (m.spec as { name: string }).name] : [])));
  return {
    captures: named('packets'),
    snapshots: named('snapshot'),
    agents: named('agent'),
    /** Agents whose summary the rules read a counter of (the others are counted by the events in their logs). */
    summaries: new Set(measures.flatMap((m) => (m.kind === 'agent' && 'counter' in m.spec ? [m.spec.name] : []))),
    phased: measures.some((m) => 'phase' in m.spec && Boolean(m.spec.phase)),
  };
}

/** The run copied into the scratch folder (artifacts and records), changed there: the recording itself stays as it is. */
export function inCopy(b: Base<DeclaredRun>, s: Scratch, edit: (rec: Recorded, file: (relative: string) => string) => void): DeclaredRun {
  fs.cpSync(path.join(b.evidence.root, b.variant), path.join(s.dir, b.variant), { recursive: true });
  const rec = clone(b.evidence.evidence.recorded);
  edit(rec, (relative) => path.join(s.dir, relative));
  return { evidence: { ...b.evidence.evidence, recorded: rec }, root: s.dir };
}

const rules = (b: Base<DeclaredRun>) => readByRules(b.evidence.evidence.rules);
const rec = (b: Base<DeclaredRun>) => b.evidence.evidence.recorded;
const names = (bases: Array<Base<DeclaredRun>>, of: (r: Recorded) => object) => [...new Set(bases.flatMap((b) => Object.keys(of(rec(b)))))];

function capturePerturbations(bases: Array<Base<DeclaredRun>>): Array<Perturbation<DeclaredRun>> {
  return names(bases, (r) => r.captures).flatMap((name): Array<Perturbation<DeclaredRun>> => {
    const kind = (b: Base<DeclaredRun>, decisive: Kind): Kind => (rules(b).captures.has(name) ? decisive : 'side-evidence-failed');
    const taken = (b: Base<DeclaredRun>) => Boolean(rec(b).captures[name]);
    const withPackets = (b: Base<DeclaredRun>) => (rec(b).captures[name]?.captured ?? 0) > 0;
    const each = (what: string, decisive: Kind, applies: (b: Base<DeclaredRun>) => boolean, apply: Perturbation<DeclaredRun>['apply']) =>
      bases
        .filter(applies)
        .map((base) => ({ kind: kind(base, decisive), name: `capture ${name} ${what}`, applies: (b: Base<DeclaredRun>) => b === base, apply }));
    return [
      ...each('not taken', 'capture-dropped', taken, (b, s) => inCopy(b, s, (r) => void delete r.captures[name])),
      ...each('pcap file missing', 'capture-dropped', taken, (b, s) => inCopy(b, s, (_r, file) => fs.rmSync(file(rec(b).captures[name]!.file)))),
      ...each('not a pcap', 'capture-dropped', taken, (b, s) =>
        inCopy(b, s, (_r, file) => fs.copyFileSync(foreignPcap(s.dir, `${name}.pcap`), file(rec(b).captures[name]!.file))),
      ),
      ...each('emptied', 'capture-empty', withPackets, (b, s) =>
        inCopy(b, s, (_r, file) => {
          const f = file(rec(b).captures[name]!.file);
          fs.copyFileSync(emptyPcap(f, s.dir), f);
        }),
      ),
    ];
  });
}

function snapshotPerturbations(bases: Array<Base<DeclaredRun>>): Array<Perturbation<DeclaredRun>> {
  return names(bases, (r) => r.snapshots).flatMap((name): Array<Perturbation<DeclaredRun>> => {
    const kind = (b: Base<DeclaredRun>): Kind => (rules(b).snapshots.has(name) ? 'snapshot-failed' : 'side-evidence-failed');
    const taken = (b: Base<DeclaredRun>) => rec(b).snapshots[name]?.exitCode === 0;
    return bases.filter(taken).flatMap((base): Array<Perturbation<DeclaredRun>> => [
      {
        kind: kind(base),
        name: `snapshot ${name} failed (exit 1, its error only)`,
        applies: (b) => b === base,
        apply: (b, s) =>
          inCopy(b, s, (r, file) => {
            const snap = r.snapshots[name]!;
            snap.exitCode = 1;
            fs.writeFileSync(file(snap.file), `# ${snap.node}: ${snap.argv.join(' ')} (exit 1)\n\n# stderr\n${snap.argv[0]}: Operation not permitted\n`);
          }),
      },
      {
        kind: kind(base),
        name: `snapshot ${name} file missing`,
        applies: (b) => b === base,
        apply: (b, s) => inCopy(b, s, (r, file) => fs.rmSync(file(r.snapshots[name]!.file))),
      },
    ]);
  });
}

/** A crashed agent: no summary, and its log cut halfway (it wrote no more). A wait for its summary would have timed out. */
function agentPerturbations(bases: Array<Base<DeclaredRun>>): Array<Perturbation<DeclaredRun>> {
  return names(bases, (r) => r.agents).flatMap((name): Array<Perturbation<DeclaredRun>> => {
    const kind = (b: Base<DeclaredRun>, decisive: Kind): Kind => (rules(b).agents.has(name) ? decisive : 'side-evidence-failed');
    const ran = (b: Base<DeclaredRun>) => Boolean(rec(b).agents[name]?.summary);
    return bases.filter(ran).flatMap((base): Array<Perturbation<DeclaredRun>> => [
      {
        kind: kind(base, 'agent-crashed'),
        name: `agent ${name} crashed halfway (no summary, half its log)`,
        applies: (b) => b === base,
        apply: (b, s) =>
          inCopy(b, s, (r, file) => {
            const agent = r.agents[name]!;
            agent.summary = null;
            const lines = fs.readFileSync(file(agent.log), 'utf8').split('\n');
            fs.writeFileSync(file(agent.log), lines.slice(0, Math.floor(lines.length / 2)).join('\n'));
          }),
      },
      {
        kind: kind(base, 'agent-crashed'),
        name: `agent ${name} wrote no summary`,
        applies: (b) => b === base,
        apply: (b, s) => inCopy(b, s, (r) => void (r.agents[name]!.summary = null)),
      },
      {
        kind: rules(base).summaries.has(name) ? 'summary-unparsable' : 'side-evidence-failed',
        name: `agent ${name}'s summary has every number replaced by text`,
        applies: (b) => b === base,
        apply: (b, s) =>
          inCopy(b, s, (r) => {
            const summary = r.agents[name]!.summary!;
            for (const [k, v] of Object.entries(summary)) if (k !== 't' && typeof v === 'number') summary[k] = 'corrupt';
          }),
      },
    ]);
  });
}

/** Node timestamps (pcaps, agent logs) against the controller's phase marks: all nodes at once, or one node alone. */
function skewPerturbations(bases: Array<Base<DeclaredRun>>): Array<Perturbation<DeclaredRun>> {
  const phased = (b: Base<DeclaredRun>) => rules(b).phased;
  const allNodes = [-30, -2, 2, 30].map((secs): Perturbation<DeclaredRun> => ({
    kind: 'clock-skew',
    name: `every node's clock ${secs > 0 ? '+' : ''}${secs} s off the controller's phase marks`,
    applies: phased,
    apply: (b, s) => inCopy(b, s, (r) => void (r.phases = r.phases.map((p) => ({ ...p, start: p.start - secs, end: p.end - secs })))),
  }));
  const nodes = [...new Set(bases.flatMap((b) => [...Object.values(rec(b).captures), ...Object.values(rec(b).agents)].map((x) => x.node)))];
  const oneNode = nodes.flatMap((node) =>
    [-2, -0.5, 0.5, 2].map((secs): Perturbation<DeclaredRun> => ({
      kind: 'clock-skew',
      name: `node ${node}'s clock ${secs > 0 ? '+' : ''}${secs} s off (its pcaps and agent logs)`,
      applies: (b) => phased(b) && [...Object.values(rec(b).captures), ...Object.values(rec(b).agents)].some((x) => x.node === node),
      apply: (b, s) =>
        inCopy(b, s, (r, file) => {
          for (const c of Object.values(r.captures)) if (c.node === node && fs.existsSync(file(c.file))) shiftPcap(file(c.file), file(c.file), secs);
          for (const a of Object.values(r.agents)) if (a.node === node) shiftLog(file(a.log), file(a.log), secs);
        }),
    })),
  );
  return [...allNodes, ...oneNode];
}

export function declaredSubject(
  lab: string,
  runs: string,
  extra: Array<Perturbation<DeclaredRun>>,
  knownDefects: Record<string, string> = {},
): Subject<DeclaredRun> {
  const bases = declaredBases(runs);
  return {
    lab,
    bases,
    judge: judgeDeclared,
    rederive: async (b) => ({
      ...b.evidence,
      evidence: { ...b.evidence.evidence, measures: await measureAll(b.evidence.evidence.rules, rec(b), b.evidence.root) },
    }),
    perturbations: [...capturePerturbations(bases), ...snapshotPerturbations(bases), ...agentPerturbations(bases), ...skewPerturbations(bases), ...extra],
    knownDefects,
  };
}
