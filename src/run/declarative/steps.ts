/**
 * Runs the steps of a declared scenario on a live lab through the ScenarioContext (so every
 * provider's Transport works), and records what the rules will need: phase windows, agent events
 * and summaries, captures, snapshots, command outputs and conntrack -S at phase boundaries.
 */
import { LabError } from '../../errors.js';
import type { ScenarioContext } from '../context.js';
import type { AgentRun } from '../agent.js';
import type { Capture } from '../capture.js';
import { parseConntrackStats } from '../conntrack.js';
import type { DeclaredScenario, Step } from '../../lab/declared/spec.js';
import type { StepRuntime } from '../../lab/declared/kind.js';
import { stepKindOf } from '../../lab/declared/steps/index.js';
import type { ClockOffset, Recorded } from '../../lab/declared/recorded.js';

export type { ClockOffset, PhaseWindow, Recorded } from '../../lab/declared/recorded.js';

export async function runDeclaredSteps(ctx: ScenarioContext, scenario: DeclaredScenario, conntrackNodes: string[]): Promise<Recorded> {
  const rec: Recorded = { phases: [], agents: {}, captures: {}, snapshots: {}, commands: [], conntrack: {} };
  const agents = new Map<string, AgentRun>();
  const captures = new Map<string, Capture>();
  const undo: Array<() => Promise<void>> = [];
  const asked = new Set<string>();
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
  const rt: StepRuntime = {
    rec,
    exec: (node, argv) => ctx.transport(node).exec(argv, { check: false }),
    interfaceToward: (node, toward) => towardIface(ctx, node, toward),
    startCapture: async (node, iface, name, filter) => void captures.set(name, await ctx.capture(node, iface, name, filter)),
    capturing: (name) => captures.has(name),
    stopCapture,
    startAgent: async (node, name, file, args, readyTimeoutMs) => void agents.set(name, await ctx.startAgent(node, name, file, args, readyTimeoutMs)),
    agent: (name) => agents.get(name),
    stopAgent,
    writeArtifact: (name, content) => ctx.relative(ctx.writeArtifact(name, content)),
    container: (request) => ctx.container(request),
    restoreContainers: () => ctx.restoreContainers(),
    onUndo: (u) => void undo.push(u),
    first(key) {
      if (asked.has(key)) return false;
      asked.add(key);
      return true;
    },
  };
  const runStep = async (step: Step) => {
    if (!step.skip) await stepKindOf(step.kind).execute(step.spec, rt);
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
  return [...new Set(steps.flatMap((s) => stepKindOf(s.kind).clockNode?.(s.spec) ?? []))];
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

function towardIface(ctx: ScenarioContext, node: string, toward: string): string {
  const iface = ctx.node(node).interfaces.find((i) => i.peer?.node === toward);
  if (!iface) throw new LabError(`no interface of ${node} faces ${toward}`);
  return iface.name;
}
