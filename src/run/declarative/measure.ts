/**
 * The numbers verdict rules compare, computed from a run's saved artifacts only (pcaps read back
 * by run/pcap.ts, agent JSON-lines logs, snapshot files, conntrack -S at phase boundaries), so a
 * saved run can be measured again. A number whose evidence is missing is null with the reason.
 */
import fs from 'node:fs';
import path from 'node:path';
import { captureLiveness, readPacketTimes } from '../pcap.js';
import { plainConditions, type Measure, type VerdictRules } from '../../lab/declared/spec.js';
import { measureKindOf } from '../../lab/declared/measures/index.js';
import type { MeasureEvidence, MeasureResult } from '../../lab/declared/kind.js';
import type { PhaseWindow, Recorded } from './steps.js';

export interface Measured {
  label: string;
  value: number | null;
  missing?: string;
}

export function measureId(m: Measure): string {
  return `${m.kind}:${JSON.stringify(m.spec)}`;
}

export function measureLabel(m: Measure): string {
  if (m.as) return m.as;
  const phase = phaseOf(m);
  return measureKindOf(m.kind).label(m.spec, phase ? ` in phase ${phase}` : '');
}

/** The phase a measure names, if any (a coded scenario's measure is a bare name). */
function phaseOf(m: Measure): string | undefined {
  return typeof m.spec === 'object' && 'phase' in m.spec && m.spec.phase ? m.spec.phase : undefined;
}

export function conditionMeasures(rules: VerdictRules): Measure[] {
  const all = plainConditions([
    ...rules.reproduced,
    ...rules.notReproduced,
    ...rules.healthy,
    ...(rules.mechanism?.when ?? []),
    ...(rules.inconclusive ?? []).flatMap((s) => s.when),
  ]);
  return all.flatMap((c) => (typeof c.than === 'number' ? [c.measure] : [c.measure, c.than]));
}

/** Every measure the rules use, by id. `root` is the run's results folder (artifact paths are relative to it). */
export async function measureAll(rules: VerdictRules, rec: Recorded, root: string): Promise<Record<string, Measured>> {
  const out: Record<string, Measured> = {};
  for (const m of conditionMeasures(rules)) {
    const id = measureId(m);
    if (out[id]) continue;
    const r = await measure(m, rec, root);
    out[id] = { label: measureLabel(m), ...r };
  }
  return out;
}

type Result = MeasureResult;

async function measure(m: Measure, rec: Recorded, root: string): Promise<Result> {
  const named = phaseOf(m);
  const phase = named ? rec.phases.find((p) => p.name === named) : undefined;
  if (named && !phase) return { value: null, missing: `phase ${named} did not complete` };
  const evidence: MeasureEvidence = {
    rec,
    ...(phase ? { phase } : {}),
    window: (node) => phase && nodeWindow(rec, node, phase),
    inWindow,
    countPackets: (capture, filter, window) => countPackets(rec, capture, filter, window, root),
    readText: (file) => readText(path.join(root, file)),
    readEvents: (file) => readEvents(path.join(root, file)),
    eventTime: (agent, event, node) => eventTime(rec, root, agent, event, node),
  };
  return measureKindOf(m.kind).measure(m.spec, evidence);
}

async function countPackets(rec: Recorded, name: string, filter: string | undefined, phase: PhaseWindow | undefined, root: string): Promise<Result> {
  const cap = rec.captures[name];
  if (!cap || !cap.file) return { value: null, missing: `capture ${name} was not taken` };
  const file = path.join(root, cap.file);
  if (!fs.existsSync(file)) return { value: null, missing: `capture ${name} has no pcap file` };
  // The capture's own filter again: rootless captures are taken unfiltered and filtered when read.
  const read = await readPacketTimes(
    file,
    [cap.filter, filter].filter((f): f is string => Boolean(f)),
  );
  if (!read.ok) return { value: null, missing: `tcpdump cannot read ${cap.file}: ${read.why}` };
  // A count, 0 above all, is evidence only from a capture that proves it was live to the end.
  const live = await captureLiveness(file, cap);
  if (!live.ok) return { value: null, missing: `capture ${name}: ${live.problem}` };
  return { value: read.times.filter((t) => inWindow(t, phase)).length };
}

/**
 * A phase window in a node's clock: shifted by the node's measured offset. An offset within half the round trip of its
 * reading, or under CLOCK_TOLERANCE_S, cannot be told from 0 and is not applied: nodes on this machine's kernel (netns,
 * containers) share its clock, and starting `date` on a loaded machine alone skews a reading by milliseconds. Runs
 * recorded before clocks were read keep this machine's windows.
 */
export const CLOCK_TOLERANCE_S = 0.05;

export function nodeWindow(rec: Recorded, node: string | undefined, phase: PhaseWindow): PhaseWindow | { missing: string } {
  if (!rec.clocks || !node) return phase;
  const clock = rec.clocks[node];
  if (!clock) return { missing: `the clock of ${node} was not read, so phase ${phase.name} cannot be placed in its timestamps` };
  if ('problem' in clock) return { missing: clock.problem };
  if (Math.abs(clock.offset) <= Math.max(clock.roundTrip / 2, CLOCK_TOLERANCE_S)) return phase;
  return { name: phase.name, start: phase.start + clock.offset, end: phase.end + clock.offset };
}

/**
 * How far `to`'s clock is ahead of `from`'s, as applied to timestamps: 0 when the two readings cannot be told apart
 * (within half their round trips together, or CLOCK_TOLERANCE_S), as for namespaces in one QEMU guest, which share
 * its clock although each reading through a loaded guest is off by tens of milliseconds.
 */
function clockShift(rec: Recorded, from: string, to: string): number | { missing: string } {
  if (!rec.clocks || from === to) return 0;
  const read = (n: string) => rec.clocks![n] ?? { problem: `the clock of ${n} was not read, so its timestamps cannot be compared with other nodes'` };
  const [a, b] = [read(from), read(to)];
  if ('problem' in a) return { missing: a.problem };
  if ('problem' in b) return { missing: b.problem };
  const shift = b.offset - a.offset;
  return Math.abs(shift) <= Math.max((a.roundTrip + b.roundTrip) / 2, CLOCK_TOLERANCE_S) ? 0 : shift;
}

function eventTime(rec: Recorded, root: string, agent: string, event: string, node: string | undefined): { t: number } | { missing: string } {
  const a = rec.agents[agent];
  if (!a) return { missing: `agent ${agent} did not run` };
  const events = readEvents(path.join(root, a.log));
  if (!events) return { missing: `the log of agent ${agent} is unreadable` };
  const first = events.find((e) => e.event === event);
  if (!first) return { missing: `agent ${agent} logged no "${event}" event` };
  const shift = node ? clockShift(rec, a.node, node) : 0;
  if (typeof shift !== 'number') return shift;
  return { t: first.t + shift };
}

function inWindow(t: number, phase: PhaseWindow | undefined): boolean {
  return !phase || (t >= phase.start && t <= phase.end);
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function readEvents(file: string): Array<{ event: string; t: number }> | undefined {
  const text = readText(file);
  if (text === undefined) return undefined;
  return text.split('\n').flatMap((l) => {
    try {
      const e = JSON.parse(l) as { event?: unknown; t?: unknown };
      return typeof e.event === 'string' && typeof e.t === 'number' ? [{ event: e.event, t: e.t }] : [];
    } catch {
      return [];
    }
  });
}
