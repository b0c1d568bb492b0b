/**
 * npa-conntrack-race: a policy agent keeps a map of allowed flows (an nftables set the datapath
 * fills on new connections) and periodically deletes the entries the kernel's conntrack no longer
 * has, working from a snapshot. A connection that reuses a 5-tuple during a cleanup walk, after the
 * snapshot, can have its live entry deleted; its replies are then denied. Timed like the report's
 * phases: wave 1, kernel expiry, the next cleanup cycle (seen in the agent's log), wave 2 reusing
 * the tuples at once.
 */
import * as z from 'zod';
import { refsTo, type Scenario } from './types.js';
import { parseSummary } from '../summary.js';
import type { ScenarioContext } from '../context.js';
import type { AgentEvent, AgentRun } from '../agent.js';
import type { Transport } from '../../transport/types.js';
import { CaptureReader, hasPayload, type TcpSegment } from '../pcap.js';
import {
  judgeRace,
  RACE_MEASURES,
  raceDetails,
  raceMeasures,
  racePreconditions,
  type Connection,
  type Deletion,
  type RaceEvidence,
  type WaveResult,
  type WireFlow,
} from './conntrack-cleanup-race-judge.js';

export type { RaceEvidence } from './conntrack-cleanup-race-judge.js';

const policySummarySchema = z.object({
  cycles: z.number().int(),
  deletions: z.array(z.object({ tuple: z.string(), cycle: z.number().int(), t: z.number(), kernelHadFlowAtDeletion: z.boolean() }).passthrough()),
  deniedFlows: z.array(z.object({ tuple: z.string(), packets: z.number().int() })),
  conntrackFailures: z.number().int(),
});
const waveSummarySchema = z.object({
  attempts: z.number().int(),
  ok: z.number().int(),
  connections: z.array(z.object({ tuple: z.string().nullable() }).passthrough()),
});

const paramsSchema = z.strictObject({
  client: z.string(),
  server: z.string(),
  algorithm: z.enum(['immediate-delete', 'consecutive-miss']).default('immediate-delete'),
  port: z.number().int().min(1).max(65535).default(9100),
  sourcePorts: z
    .string()
    .regex(/^\d{1,5}(-\d{1,5})?(,\d{1,5}(-\d{1,5})?)*$/, 'ports such as 40000-40004')
    .default('40000-40004'),
  cleanupPeriodS: z.number().min(1).max(60).default(4),
  perEntryDelayS: z.number().min(0).max(5).default(0.4),
  conntrackCloseTimeoutS: z.number().int().min(1).max(60).default(1),
});

type Params = z.output<typeof paramsSchema>;

const TIMEOUTS = [
  'nf_conntrack_tcp_timeout_close',
  'nf_conntrack_tcp_timeout_time_wait',
  'nf_conntrack_tcp_timeout_fin_wait',
  'nf_conntrack_tcp_timeout_close_wait',
  'nf_conntrack_tcp_timeout_last_ack',
];

export const conntrackCleanupRaceScenario: Scenario<Params, RaceEvidence> = {
  kind: 'conntrack-cleanup-race',
  summary: "a policy agent's conntrack cleanup against 5-tuple reuse; are live flows denied?",
  params: paramsSchema,
  nodeRefs: (p) => refsTo(p, 'client', 'server'),

  async run(ctx, params) {
    const serverT = ctx.transport(params.server);
    const echo = await ctx.startAgent(params.server, 'echo', 'echo_server.py', ['--port', String(params.port), '--duration', '120']);
    const agent = await ctx.startAgent(params.server, 'policy-agent', 'policy_agent.py', [
      '--port',
      String(params.port),
      '--algorithm',
      params.algorithm,
      '--cleanup-period',
      String(params.cleanupPeriodS),
      '--per-entry-delay',
      String(params.perEntryDelayS),
      '--duration',
      '110',
    ]);
    const saved = await shortenCloseTimeouts(serverT, params.conntrackCloseTimeoutS);
    try {
      const waves = await reuseTuplesDuringCleanup(ctx, params, agent);
      await agent.stop();
      await echo.stop();
      const reader = new CaptureReader();
      const segments = await reader.segments(waves.pcap.file, `tcp port ${params.port}`, waves.pcap);
      const evidence = raceEvidence(params, agent, waves);
      const tuples = (evidence.wave2.connections ?? []).flatMap((c) => (c.tuple ? [c.tuple] : []));
      return {
        kernel: await ctx.kernel(params.server),
        ...evidence,
        conntrackListFailures: waves.listFailures,
        captureProblems: reader.problems,
        onWire: Object.fromEntries(tuples.map((t) => [t, wireFlow(segments, t)])),
        ...ctx.artifacts([waves.pcap]),
      };
    } finally {
      for (const [name, value] of saved) await serverT.exec(['sysctl', '-qw', `${name}=${value}`], { check: false });
    }
  },

  judge: (evidence) => judgeRace(evidence),
  rules: {
    measures: RACE_MEASURES,
    measure: (evidence) => raceMeasures(evidence),
    preconditions: (evidence) => racePreconditions(evidence),
    details: (evidence) => raceDetails(evidence),
  },
};

/** Short TCP close timeouts on the server, so wave 1's entries leave the kernel table before wave 2 reuses their tuples. */
async function shortenCloseTimeouts(serverT: Transport, seconds: number): Promise<Array<[string, string]>> {
  const saved: Array<[string, string]> = [];
  for (const key of TIMEOUTS) {
    const name = `net.netfilter.${key}`;
    saved.push([name, (await serverT.exec(['sysctl', '-n', name])).stdout.trim()]);
    await serverT.exec(['sysctl', '-qw', `${name}=${seconds}`]);
  }
  return saved;
}

/**
 * Wave 1 opens and closes the tuples; once they expired, wave 2 reuses them right after a cleanup walk took its snapshot.
 * Both waves are started ahead and wait for their go signal, since Python takes seconds to start on a loaded machine:
 * wave 1 is released as a cleanup cycle ends, so it runs between two snapshots (a connection made between a cycle's
 * conntrack dump and its read of the map would be deleted while live, wave 1 hitting the race itself); wave 2 is released
 * at the first cycle whose snapshot lacks one of wave 1's tuples its map holds (the walk reaches the first stale entry
 * perEntryDelayS later). The cycles are picked by their order and their snapshots' content, never by comparing clocks across nodes.
 */
async function reuseTuplesDuringCleanup(ctx: ScenarioContext, params: Params, agent: AgentRun) {
  const serverT = ctx.transport(params.server);
  const cycleMs = params.cleanupPeriodS * 1000;
  await agent.waitFor('cleanup_end', cycleMs * 2 + 10_000);
  const wave = (label: string, holdS: number) =>
    ctx.startAgent(params.client, label, 'wave_client.py', [
      '--server',
      ctx.address(params.server),
      '--port',
      String(params.port),
      '--source-ports',
      params.sourcePorts,
      '--hold',
      String(holdS),
      '--label',
      label,
      '--wait-for-go',
    ]);
  const wave2 = await wave('wave2', params.cleanupPeriodS + 2);
  const wave1 = await wave('wave1', 1);
  const startedBefore = lastCycle(agent, 'cleanup_start');
  const quiet = await agent.waitFor('cleanup_end', cycleMs * 2 + 10_000, (e) => (e.cycle as number) > startedBefore);
  wave1.go();
  await wave1.finish(30_000);
  const wave1Tuples = tuplesOf(wave1);
  // Started after wave 1 (the waves share their 5-tuples) and well before wave 2's go: tcpdump takes a while to listen.
  const iface = ctx.node(params.server).interfaces[0]!.name;
  const capture = await ctx.capture(params.server, iface, `${params.server}-${iface}`, [`tcp port ${params.port}`]);
  const listFlows = () => serverT.exec(['conntrack', '-L', '-p', 'tcp', '--dport', String(params.port)], { check: false });
  const expiry = waitForExpiry(listFlows, ctx.address(params.client), 15_000);
  const ranDuringWave1 = lastCycle(agent, 'cleanup_start');
  // Three cycles are enough for wave 1's entries (closed with a RST, close timeout conntrackCloseTimeoutS) to leave the table.
  const trigger = await agent
    .waitFor('cleanup_start', cycleMs * 3 + 20_000, (e) => (e.cycle as number) > ranDuringWave1 && isStaleFor(e, wave1Tuples))
    .catch(() => null);
  if (trigger) wave2.go();
  const { expiredAt, listFailures } = await expiry;
  if (trigger) await wave2.finish((params.cleanupPeriodS + 30) * 1000);
  else await wave2.stop();
  const pcap = await capture.stop();
  const last = lastCycle(agent, 'cleanup_end');
  await agent.waitFor('cleanup_end', cycleMs * 2 + 10_000, (e) => (e.cycle as number) > last);
  return { wave1, wave2, wave1Tuples, wave1ReleasedAfterCycle: quiet.cycle as number, trigger, expiredAt, listFailures, pcap };
}

function lastCycle(agent: AgentRun, event: string): number {
  return (agent.all(event).at(-1)?.cycle as number | undefined) ?? -1;
}

function tuplesOf(run: AgentRun): string[] {
  return run.all('connection').flatMap((c) => (typeof c.tuple === 'string' ? [c.tuple] : []));
}

/**
 * A cycle that finds wave 1's entries stale: its map holds a wave-1 tuple its snapshot lacks. Any one is enough: wave 1's
 * connections close up to half a second apart (seconds under TCG), so a snapshot may lack some while others are still
 * closing, and the cycle that takes it deletes (or misses) those at once; waiting for a snapshot that lacks all of them
 * would let that cycle act on wave 1's entries before the trigger.
 */
function isStaleFor(start: AgentEvent, wave1Tuples: string[]): boolean {
  const stale = staleAt(start);
  return wave1Tuples.some((t) => stale.includes(t));
}

/** The map's entries a cycle's snapshot lacks: the ones its walk deletes (or misses). */
function staleAt(start: AgentEvent): string[] {
  const listed = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const snapshot = listed(start.snapshot);
  return listed(start.map).filter((t) => !snapshot.includes(t));
}

function raceEvidence(params: Params, agent: AgentRun, waves: Awaited<ReturnType<typeof reuseTuplesDuringCleanup>>) {
  const { wave1, wave2, trigger, expiredAt } = waves;
  const parsed = [
    parseSummary('policy', policySummarySchema, agent.summary()),
    parseSummary('wave1', waveSummarySchema, wave1.summary()),
    parseSummary('wave2', waveSummarySchema, wave2.summary()),
  ] as const;
  type PolicySummary = { deletions: Deletion[]; deniedFlows: Array<{ tuple: string; packets: number }>; cycles: number; conntrackFailures: number };
  const summary = parsed[0].ok ? (parsed[0].value as PolicySummary) : undefined;
  const w1 = parsed[1].ok ? (wave1.summary() as { connections?: Connection[] }) : undefined;
  const w2 = parsed[2].ok ? (wave2.summary() as { connections?: Connection[] }) : undefined;
  const wave2Tuples = new Set((w2?.connections ?? []).map((c) => c.tuple).filter(Boolean));
  const deletions = summary?.deletions ?? [];
  const triggerCycle = trigger ? (trigger.cycle as number) : null;
  const firstDeletionInTrigger = deletions.find((d) => d.cycle === triggerCycle);
  const beforeTrigger = (e: AgentEvent) => triggerCycle === null || (e.cycle as number) < triggerCycle;
  const wave1EntriesBeforeTrigger = (['deleted', 'missed'] as const).flatMap((action) =>
    agent
      .all(action)
      .filter((e) => beforeTrigger(e) && waves.wave1Tuples.includes(e.tuple as string))
      .map((e) => ({ tuple: e.tuple as string, cycle: e.cycle as number, action })),
  );
  const connectedTimes = (w2?.connections ?? []).map((c) => c.connectedT).filter((x): x is number => x !== null);
  return {
    summaryProblems: parsed.flatMap((p) => (p.ok ? [] : [p.problem])),
    algorithm: params.algorithm,
    timing: {
      cleanupPeriodS: params.cleanupPeriodS,
      perEntryDelayS: params.perEntryDelayS,
      wave1EntriesExpiredAt: expiredAt,
      wave1ReleasedAfterCycle: waves.wave1ReleasedAfterCycle,
      triggerCycle,
      triggerSnapshotAt: trigger?.t ?? null,
      staleEntriesAtTrigger: trigger ? staleAt(trigger).length : null,
      staleTuplesAtTrigger: trigger ? staleAt(trigger) : null,
      wave2ConnectedFrom: connectedTimes.length ? Math.min(...connectedTimes) : null,
      wave2ConnectedUntil: connectedTimes.length ? Math.max(...connectedTimes) : null,
      firstDeletionOfTriggerCycle: firstDeletionInTrigger?.t ?? null,
    },
    wave1: summarize(w1?.connections),
    wave2: summarize(w2?.connections),
    wave1EntriesBeforeTrigger,
    deletions,
    liveFlowsDeleted: deletions.filter((d) => d.kernelHadFlowAtDeletion && wave2Tuples.has(d.tuple)).map((d) => ({ tuple: d.tuple, cycle: d.cycle, t: d.t })),
    // The denied set is keyed like the allowed one: client address . port . server address . port.
    deniedFlows: (summary?.deniedFlows ?? []).map((d) => ({ flow: d.tuple, packets: d.packets })),
    cycles: summary?.cycles ?? null,
    agentConntrackFailures: summary?.conntrackFailures ?? null,
  };
}

function summarize(connections: Connection[] | undefined): WaveResult {
  const list = connections ?? [];
  return {
    attempts: list.length,
    ok: list.filter((c) => c.ok).length,
    failed: list.filter((c) => !c.ok).map((c) => ({ tuple: c.tuple, error: c.error, t: c.failedT })),
    connections: list.map((c) => ({ tuple: c.tuple, ok: c.ok, echoes: c.echoes ?? null })),
  };
}

/** One wave-2 flow on the server's link: "10.40.1.1:40000>10.40.2.2:9100" is client 10.40.1.1.40000, server 10.40.2.2.9100. */
export function wireFlow(segments: TcpSegment[], tuple: string): WireFlow {
  const [client, server] = tuple.split('>').map((end) => end.replace(/:(\d+)$/, '.$1'));
  const ofFlow = segments.filter((s) => (s.src === client && s.dst === server) || (s.src === server && s.dst === client));
  const unique = (from: string) => new Set(ofFlow.filter((s) => s.src === from && hasPayload(s)).map((s) => s.seq)).size;
  const pingSegments = ofFlow.filter((s) => s.src === client && hasPayload(s)).length;
  return {
    syns: ofFlow.filter((s) => s.src === client && s.flags === 'S').length,
    pings: unique(client!),
    echoes: unique(server!),
    retransmittedPings: pingSegments - unique(client!),
  };
}

/** The moment conntrack -L on the server no longer lists the client's flows; a failing conntrack -L is counted, never read as "expired". */
async function waitForExpiry(list: () => Promise<{ exitCode: number; stdout: string }>, clientAddr: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let listFailures = 0;
  while (Date.now() < deadline) {
    const out = await list();
    if (out.exitCode !== 0) listFailures++;
    else if (!out.stdout.includes(`src=${clientAddr} `)) return { expiredAt: Date.now() / 1000, listFailures };
    await new Promise((r) => setTimeout(r, 100));
  }
  return { expiredAt: null, listFailures };
}
