/** What report.md and report.html draw of a run's captures: each variant's packets, phases, marked moments and timelines. */
import fs from 'node:fs';
import path from 'node:path';
import type { RunResult, VariantResult } from '../run/run-lab.js';
import { captureRefs, type CaptureFile } from './ladder.js';
import { readCaptureGroups, type Packet } from './packets.js';
import { nodeWindow } from '../run/declarative/measure.js';
import type { Recorded } from '../run/declarative/steps.js';
import { progressOf, throughputTimeline, type Progress } from './throughput.js';
import { agentLogsOf, buildTimeline, momentsOf, phasesOf, type Moment, type PhaseWindow, type Timeline } from './timeline.js';

export interface VariantPictures {
  pcaps: CaptureFile[];
  /** The captures' packets, or why they could not be read. */
  packets: Packet[] | { problem: unknown };
  phases: PhaseWindow[];
  moments: Moment[];
  /** One per capture point that saw a packet, in the order of the variant's captures. */
  timelines: Timeline[];
  /** The agents that reported progress (bulk transfers), and their throughput over time. */
  progress: Array<{ name: string; progress: Progress[] }>;
  throughput: Timeline | null;
}

function capturesOf(run: RunResult, v: VariantResult): CaptureFile[] {
  return ((v.evidence.pcaps as CaptureFile[] | undefined) ?? []).filter((p) => fs.existsSync(path.join(run.resultsDir, p.file)));
}

/**
 * The phase windows in the clock of the node that captured a file (packets carry its clock, the windows this machine's),
 * as the declared measures place them; a window that cannot be placed is drawn in this machine's clock.
 */
function capturePhases(v: VariantResult, file: string, phases: PhaseWindow[]): PhaseWindow[] {
  const recorded = v.evidence.recorded as Recorded | undefined;
  const node = Object.values(recorded?.captures ?? {}).find((c) => c.file === file)?.node;
  if (!recorded || !node) return phases;
  return phases.map((p) => {
    const placed = nodeWindow(recorded, node, p);
    return 'missing' in placed ? p : placed;
  });
}

/** Packets read per capture: a flood's timeline needs them all (tshark decoded 50000 UDP packets in 0.8 s here, load 7.5). */
const PACKETS_READ = 50_000;

/** Every variant's captures read back with one tshark: its start costs more than decoding a run's packets. */
export async function runPictures(run: RunResult): Promise<VariantPictures[]> {
  const pcaps = run.variants.map((v) => capturesOf(run, v));
  let groups: Packet[][] | { problem: unknown };
  try {
    groups = await readCaptureGroups(
      pcaps.map((p) => captureRefs(run.resultsDir, p)),
      PACKETS_READ,
    );
  } catch (problem) {
    groups = { problem };
  }
  return run.variants.map((v, i) => {
    const phases = phasesOf(v.evidence);
    const packets = Array.isArray(groups) ? groups[i]! : groups;
    const list = Array.isArray(packets) ? packets : [];
    const moments = momentsOf(list, phases, agentLogsOf(run.resultsDir, v.evidence));
    const timelines = pcaps[i]!.map((c) => {
      const tl = buildTimeline(path.basename(c.file, '.pcap'), list, capturePhases(v, c.file, phases), moments);
      return tl && typeof c.captured === 'number' ? { ...tl, captured: c.captured } : tl;
    }).filter((t): t is Timeline => t !== null);
    const progress = agentLogsOf(run.resultsDir, v.evidence).map((a) => ({ name: a.name, progress: progressOf(a.file) }));
    const throughput = throughputTimeline(progress, phases, moments);
    return { pcaps: pcaps[i]!, packets, phases, moments, timelines, progress, throughput };
  });
}
