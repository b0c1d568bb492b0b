/**
 * Declared labs (the rule engine: measure.ts counts from the saved artifacts, rules.ts decides): perturbations of a
 * recorded run's artifacts and records, measured again and judged. Which artifacts the verdict rests on is read from the
 * lab's own rules: a capture, snapshot or agent the rules count is decisive; one they do not is side evidence.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { conditionMeasures, measureAll, type Measured } from '../../../src/run/declarative/measure.js';
import { declaredScenario } from '../../../src/run/declarative/scenario.js';
import { declaredTopology } from '../../../src/run/declarative/topology.js';
import type { Recorded } from '../../../src/run/declarative/steps.js';
import type { VerdictRules } from '../../../src/lab/declared/spec.js';
import { parseDeclared } from '../../../src/lab/declared/parse.js';
import { splitDeclared } from '../../../src/lab/declared/validate.js';
import { loadLab } from '../../../src/lab/load.js';
import type { ResolvedLab } from '../../../src/lab/model.js';
import type { VerdictValue } from '../../../src/run/verdict.js';
import type { Base, Kind, Perturbation, Scratch, Subject } from './harness.js';
import { clone, cutPcap, emptyPcap, foreignPcap, shiftLog, shiftPcap } from './faults.js';

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

/** The rules of a variant as the lab file says them today (a run judges with these, not with those saved in an older run). */
export function currentRules(lab: ResolvedLab, variant: string, overrides: Record<string, unknown> = {}): VerdictRules {
  const v = lab.variants.find((x) => x.name === variant);
  if (!v) throw new Error(`internal: ${lab.name} has no variant ${variant}`);
  const { raw, params } = splitDeclared(v.params);
  const { scenario, problems } = parseDeclared(raw, { ...params, ...overrides }, declaredTopology(lab));
  if (!scenario) throw new Error(`internal: ${lab.name}/${variant}: ${problems.map((p) => p.message).join('; ')}`);
  return scenario.verdict;
}

export function declaredBases(lab: ResolvedLab, runs: string): Array<Base<DeclaredRun>> {
  return fs
    .readdirSync(runs)
    .filter((v) => fs.existsSync(path.join(runs, v, 'evidence.json')))
    .map((variant) => {
      const saved = JSON.parse(fs.readFileSync(path.join(runs, variant, 'evidence.json'), 'utf8')) as { verdict: VerdictValue; evidence: DeclaredEvidence };
      const evidence = { ...saved.evidence, rules: currentRules(lab, variant) };
      return { variant, evidence: { evidence, root: runs }, stored: saved.verdict };
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
    /** Whether any measure compares timestamps of different clocks: within a phase, or after an agent's event. */
    phased: measures.some((m) => typeof m.spec === 'object' && (('phase' in m.spec && Boolean(m.spec.phase)) || ('after' in m.spec && Boolean(m.spec.after)))),
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
      ...each('emptied, tcpdump reporting 0 captured (live, saw nothing)', 'capture-empty', withPackets, (b, s) =>
        inCopy(b, s, (r, file) => {
          const f = file(r.captures[name]!.file);
          fs.copyFileSync(emptyPcap(f, s.dir), f);
          Object.assign(r.captures[name]!, { captured: 0, droppedByKernel: 0 });
        }),
      ),
      ...each(
        "cut after half its packets (tcpdump's count kept)",
        'capture-unproven',
        (b) => (rec(b).captures[name]?.captured ?? 0) > 1,
        (b, s) =>
          inCopy(b, s, (r, file) => {
            const f = file(r.captures[name]!.file);
            fs.copyFileSync(cutPcap(f, s.dir, Math.floor(r.captures[name]!.captured! / 2)), f);
          }),
      ),
      ...each('with no tcpdump statistics (killed, not stopped)', 'capture-unproven', taken, (b, s) =>
        inCopy(b, s, (r) => void Object.assign(r.captures[name]!, { captured: null, droppedByKernel: null })),
      ),
      ...each('with packets the kernel dropped before tcpdump read them', 'capture-unproven', taken, (b, s) =>
        inCopy(b, s, (r) => void (r.captures[name]!.droppedByKernel = 4)),
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

const nodesOf = (r: Recorded) => [...new Set([...Object.values(r.captures), ...Object.values(r.agents)].map((x) => x.node))];
const signed = (secs: number) => `${secs > 0 ? '+' : ''}${secs} s`;

/** A node's clock `secs` ahead: its pcaps' and agent logs' timestamps move, the controller's phase marks do not. */
function shiftNode(r: Recorded, file: (relative: string) => string, node: string, secs: number): void {
  for (const c of Object.values(r.captures)) if (c.node === node && fs.existsSync(file(c.file))) shiftPcap(file(c.file), file(c.file), secs);
  for (const a of Object.values(r.agents)) if (a.node === node) shiftLog(file(a.log), file(a.log), secs);
}

/**
 * What the run records of each node's clock, in three cases: it read the offset (`date` on the node: a run since clocks
 * were read), the reading failed, or the run predates clock readings (no `clocks` at all, as in the older recordings).
 */
type ClockRecord = 'measured' | 'unreadable' | 'not recorded';
function clocks(r: Recorded, offsets: Record<string, number>, how: ClockRecord): void {
  if (how === 'not recorded') return void delete r.clocks;
  r.clocks = Object.fromEntries(
    nodesOf(r).map((n) => [
      n,
      how === 'unreadable' && offsets[n] !== undefined
        ? { problem: `the clock of ${n} could not be read (date +%s.%N: exit 1, "")` }
        : { offset: offsets[n] ?? 0, roundTrip: 0.002 },
    ]),
  );
}

/** Node timestamps (pcaps, agent logs) against the controller's phase marks: every node at once, or one node alone. */
function skewPerturbations(bases: Array<Base<DeclaredRun>>): Array<Perturbation<DeclaredRun>> {
  const phased = (b: Base<DeclaredRun>) => rules(b).phased;
  const HOW: ClockRecord[] = ['measured', 'unreadable', 'not recorded'];
  const allNodes = [-30, -2, 2, 30].flatMap((secs) =>
    HOW.map((how): Perturbation<DeclaredRun> => ({
      kind: 'clock-skew',
      name: `every node's clock ${signed(secs)} off the controller's phase marks (offsets ${how})`,
      applies: phased,
      apply: (b, s) =>
        inCopy(b, s, (r, file) => {
          for (const node of nodesOf(r)) shiftNode(r, file, node, secs);
          clocks(r, Object.fromEntries(nodesOf(r).map((n) => [n, secs])), how);
        }),
    })),
  );
  const nodes = [...new Set(bases.flatMap((b) => nodesOf(rec(b))))];
  const oneNode = nodes.flatMap((node) =>
    [-2, -0.5, 0.5, 2].flatMap((secs) =>
      HOW.map((how): Perturbation<DeclaredRun> => ({
        kind: 'clock-skew',
        name: `node ${node}'s clock ${signed(secs)} off (its pcaps and agent logs; offsets ${how})`,
        applies: (b) => phased(b) && nodesOf(rec(b)).includes(node),
        apply: (b, s) =>
          inCopy(b, s, (r, file) => {
            shiftNode(r, file, node, secs);
            clocks(r, { [node]: secs }, how);
          }),
      })),
    ),
  );
  return [...allNodes, ...oneNode];
}

const repository = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

/** A declared lab's subject: its recorded runs (test/fixtures/declarative/runs/<lab>), judged with the lab file's rules. */
export function declaredSubject(lab: string, extra: Array<Perturbation<DeclaredRun>>, knownDefects: Record<string, string> = {}): Subject<DeclaredRun> {
  const bases = declaredBases(loadLab(path.join(repository, 'labs', lab)), path.join(repository, 'test', 'fixtures', 'declarative', 'runs', lab));
  return declaredSubjectFrom(lab, bases, extra, knownDefects);
}

/** The declared perturbations of the given bases; `skew: false` where the phase windows are not a run's own marks. */
export function declaredSubjectFrom(
  lab: string,
  bases: Array<Base<DeclaredRun>>,
  extra: Array<Perturbation<DeclaredRun>>,
  knownDefects: Record<string, string> = {},
  { skew = true } = {},
): Subject<DeclaredRun> {
  return {
    lab,
    bases,
    judge: judgeDeclared,
    perturbations: [
      ...capturePerturbations(bases),
      ...snapshotPerturbations(bases),
      ...agentPerturbations(bases),
      ...(skew ? skewPerturbations(bases) : []),
      ...extra,
    ],
    knownDefects,
  };
}
