/**
 * Runs the steps of a declared scenario on a live lab through the ScenarioContext (so every
 * provider's Transport works), and records what the rules will need: phase windows, agent events
 * and summaries, captures, snapshots, command outputs and conntrack -S at phase boundaries.
 */
import path from 'node:path';
import { LabError } from '../../errors.js';
import type { ScenarioContext } from '../context.js';
import type { AgentRun, AgentEvent } from '../agent.js';
import type { Capture } from '../capture.js';
import { parseConntrackStats, type ConntrackStats } from '../conntrack.js';
import { GENERIC_AGENTS, SNAPSHOTS, type DeclaredScenario, type Step } from '../../lab/declared/spec.js';

export interface PhaseWindow {
  name: string;
  start: number;
  end: number;
}

export interface Recorded {
  phases: PhaseWindow[];
  agents: Record<string, { node: string; log: string; summary: AgentEvent | null }>;
  captures: Record<string, { node: string; iface: string; filter?: string; file: string; captured: number | null; droppedByKernel: number | null }>;
  snapshots: Record<string, { node: string; argv: string[]; file: string; exitCode: number }>;
  commands: Array<{ node: string; argv: string[]; exitCode: number; output: string }>;
  /** Waits that ran out of time: the steps went on so the evidence is kept, but the verdict is INCONCLUSIVE. */
  timeouts?: string[];
  /** conntrack -S per node, at "start", "end" and "<phase>:start" / "<phase>:end". */
  conntrack: Record<string, Record<string, ConntrackStats>>;
  /**
   * Each capturing or agent node's clock against this machine's, measured at the start of the run: phase windows are
   * this machine's times, packets and agent events carry the node's. Missing for a node whose clock could not be read.
   */
  clocks?: Record<string, ClockOffset | { problem: string }>;
}

export interface ClockOffset {
  /** Seconds the node's clock is ahead of this machine's (node time minus the midpoint of the round trip). */
  offset: number;
  /** The round trip of the reading: the offset is known to within half of it. */
  roundTrip: number;
}

export async function runSteps(ctx: ScenarioContext, scenario: DeclaredScenario, conntrackNodes: string[]): Promise<Recorded> {
  const rec: Recorded = { phases: [], agents: {}, captures: {}, snapshots: {}, commands: [], conntrack: {} };
  const agents = new Map<string, AgentRun>();
  const captures = new Map<string, Capture>();
  const undo: Array<() => Promise<void>> = [];
  const stats = async (point: string) => {
    for (const node of conntrackNodes) {
      const out = await ctx.transport(node).exec(['conntrack', '-S'], { check: false });
      if (out.exitCode === 0) (rec.conntrack[node] ??= {})[point] = parseConntrackStats(out.stdout);
    }
  };
  const stopAgent = async (name: string) => {
    const agent = agents.get(name)!;
    await agent.stop();
    rec.agents[name] = { node: agent.node, log: ctx.relative(agent.logFile), summary: agent.summary() ?? null };
  };
  const stopCapture = async (name: string) => {
    const c = captures.get(name)!;
    captures.delete(name);
    const r = await c.stop();
    rec.captures[name] = { ...rec.captures[name]!, file: ctx.relative(r.file), captured: r.captured, droppedByKernel: r.droppedByKernel };
  };

  const runStep = async (step: Step) => {
    if (step.skip) return;
    switch (step.kind) {
      case 'capture': {
        const s = step.spec;
        const iface = s.iface ?? towardIface(ctx, s.node, s.toward!);
        const filter = s.filter ? s.filter.trim().split(/\s+/) : [];
        captures.set(s.name, await ctx.capture(s.node, iface, s.name, filter));
        rec.captures[s.name] = { node: s.node, iface, ...(s.filter ? { filter: s.filter } : {}), file: '', captured: null, droppedByKernel: null };
        return;
      }
      case 'agent': {
        const s = step.spec;
        const run = await ctx.startAgent(s.node, s.name, GENERIC_AGENTS[s.run], agentArgs(s.args), s.readyTimeout * 1000);
        agents.set(s.name, run);
        return;
      }
      case 'wait': {
        const s = step.spec;
        if ('seconds' in s) return void (await new Promise((r) => setTimeout(r, s.seconds * 1000)));
        const agent = agents.get(s.agent);
        if (!agent) throw new LabError(`wait: agent "${s.agent}" was not started`);
        try {
          await agent.waitFor(s.event, s.timeout * 1000);
        } catch (e) {
          if (!(e instanceof LabError)) throw e;
          (rec.timeouts ??= []).push(e.message);
        }
        return;
      }
      case 'run': {
        const s = step.spec;
        const out = await ctx.transport(s.node).exec(s.argv, { check: false });
        rec.commands.push({ node: s.node, argv: s.argv, exitCode: out.exitCode, output: (out.stdout + out.stderr).slice(0, 4000) });
        if (s.undo) undo.push(async () => void (await ctx.transport(s.node).exec(s.undo!, { check: false })));
        if (out.exitCode !== 0 && !s.mayFail) {
          const details = (out.stderr || out.stdout).trim().split('\n').slice(-3);
          throw new LabError(`${s.node}: ${s.argv.join(' ')} exited with ${out.exitCode}`, { details });
        }
        return;
      }
      case 'snapshot': {
        const s = step.spec;
        const argv = [...SNAPSHOTS[s.of]];
        const out = await ctx.transport(s.node).exec(argv, { check: false });
        const text = out.stdout + (out.stderr ? `\n# stderr\n${out.stderr}` : '');
        const file = ctx.writeArtifact(path.join('snapshots', `${s.name}.txt`), `# ${s.node}: ${argv.join(' ')} (exit ${out.exitCode})\n${text}`);
        rec.snapshots[s.name] = { node: s.node, argv, file: ctx.relative(file), exitCode: out.exitCode };
        return;
      }
      case 'stop':
        if ('agent' in step.spec) {
          if (!agents.has(step.spec.agent)) throw new LabError(`stop: agent "${step.spec.agent}" was not started`);
          await stopAgent(step.spec.agent);
        } else {
          if (!captures.has(step.spec.capture)) throw new LabError(`stop: capture "${step.spec.capture}" is not running`);
          await stopCapture(step.spec.capture);
        }
    }
  };

  try {
    rec.clocks = await readClocks(ctx, clockNodes(scenario));
    await stats('start');
    for (const item of scenario.steps) {
      if (!('phase' in item)) {
        await runStep(item);
        continue;
      }
      await stats(`${item.phase}:start`);
      const start = Date.now() / 1000;
      for (const step of item.steps) await runStep(step);
      rec.phases.push({ name: item.phase, start, end: Date.now() / 1000 });
      await stats(`${item.phase}:end`);
    }
    // Agents still running are asked to stop (they write their summary), then captures end.
    for (const [name, agent] of agents) if (!rec.agents[name] || agent.running) await stopAgent(name);
    for (const name of [...captures.keys()]) await stopCapture(name);
    await stats('end');
  } finally {
    for (const u of undo.reverse()) await u();
  }
  return rec;
}

/** Nodes whose timestamps a phase may be compared with: those that capture or run agents. */
function clockNodes(scenario: DeclaredScenario): string[] {
  const steps = scenario.steps.flatMap((item) => ('phase' in item ? item.steps : [item]));
  return [...new Set(steps.flatMap((s) => (s.kind === 'capture' || s.kind === 'agent' ? [s.spec.node] : [])))];
}

/** `date +%s.%N` on each node through its transport; the node's time is taken to be read at the round trip's midpoint. */
export async function readClocks(ctx: ScenarioContext, nodes: string[]): Promise<Record<string, ClockOffset | { problem: string }>> {
  const out: Record<string, ClockOffset | { problem: string }> = {};
  for (const node of nodes) {
    const before = Date.now() / 1000;
    const r = await ctx.transport(node).exec(['date', '+%s.%N'], { check: false });
    const after = Date.now() / 1000;
    const nodeTime = Number(r.stdout.trim());
    out[node] =
      r.exitCode === 0 && Number.isFinite(nodeTime) && /^\d+\.\d+$/.test(r.stdout.trim())
        ? { offset: nodeTime - (before + after) / 2, roundTrip: after - before }
        : { problem: `the clock of ${node} could not be read (date +%s.%N: exit ${r.exitCode}, "${r.stdout.trim().slice(0, 40)}")` };
  }
  return out;
}

/** { count: 5, connected: true } -> --count 5 --connected ; values were checked against the agent's schema. */
export function agentArgs(args: Record<string, unknown>): string[] {
  return Object.entries(args).flatMap(([k, v]) => {
    const flag = `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    if (v === false || v === undefined) return [];
    if (v === true) return [flag];
    return [flag, String(v)];
  });
}

function towardIface(ctx: ScenarioContext, node: string, toward: string): string {
  const iface = ctx.node(node).interfaces.find((i) => i.peer?.node === toward);
  if (!iface) throw new LabError(`no interface of ${node} faces ${toward}`);
  return iface.name;
}
