/**
 * What running a declared scenario's steps records (run/declarative/steps.ts fills it in, each step kind its part),
 * and what its measures are computed from, also from a saved run.
 */

export interface PhaseWindow {
  name: string;
  start: number;
  end: number;
}

export interface Recorded {
  phases: PhaseWindow[];
  agents: Record<string, { node: string; log: string; summary: AgentLine | null }>;
  captures: Record<string, { node: string; iface: string; filter?: string; file: string; captured: number | null; droppedByKernel: number | null }>;
  snapshots: Record<string, { node: string; argv: string[]; file: string; exitCode: number }>;
  commands: Array<{ node: string; argv: string[]; exitCode: number; output: string }>;
  /** Waits that ran out of time: the steps went on so the evidence is kept, but the verdict is INCONCLUSIVE. */
  timeouts?: string[];
  /** conntrack -S per node, at "start", "end" and "<phase>:start" / "<phase>:end". */
  conntrack: Record<string, Record<string, Record<string, number>>>;
  /**
   * Each capturing or agent node's clock against this machine's, measured at the start of the run: phase windows are
   * this machine's times, packets and agent events carry the node's. Missing for a node whose clock could not be read.
   */
  clocks?: Record<string, ClockOffset | { problem: string }>;
}

/** One JSON line of an agent's log (run/agent.ts's AgentEvent). */
export interface AgentLine {
  event: string;
  t: number;
  [key: string]: unknown;
}

export interface ClockOffset {
  /** Seconds the node's clock is ahead of this machine's (node time minus the midpoint of the round trip). */
  offset: number;
  /** The round trip of the reading: the offset is known to within half of it. */
  roundTrip: number;
}
