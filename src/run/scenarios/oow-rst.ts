/**
 * docker-1090 / kubernetes-74839: the server forges one segment outside what the client expects
 * (far ahead of its window, or far behind what it acknowledged, as Kubernetes' regression image
 * does). On a NATed client host conntrack may mark it, or a later segment, INVALID; an INVALID
 * segment skips the de-NAT and the host's own stack answers RST. Evidence: the server agent's
 * sniffer, the client's own outcome, the client host's conntrack counters, and the captures.
 */
import * as z from 'zod';
import { refsTo, type Scenario } from './types.js';
import type { ScenarioContext, StoppedCapture } from '../context.js';
import { invalidCounters } from '../conntrack.js';
import { CaptureReader, connectionUnseen, type TcpSegment } from '../pcap.js';
import { parseSummary } from '../summary.js';
import type { AgentRun } from '../agent.js';
import { clientHostPath, rstsAtServerAfterForged } from './oow-rst-path.js';
import {
  clientSummarySchema,
  judgeOow,
  OOW_MEASURES,
  oowDetails,
  oowMeasures,
  oowPreconditions,
  serverSummarySchema,
  type OowEvidence,
  type ServerSummary,
  type ClientSummary,
} from './oow-rst-judge.js';

const paramsSchema = z.strictObject({
  client: z.string().describe('the node or container that opens the connection'),
  server: z.string().describe('the node that runs the forging server'),
  port: z.number().int().min(1).max(65535).default(9000),
  forgePlacement: z.enum(['ahead', 'behind']).default('ahead').describe("ahead of the client's window, or behind what it acknowledged"),
  forgeOffset: z
    .number()
    .int()
    .min(1)
    .max(2 ** 31 - 1)
    .default(100000),
  forgeBytes: z.number().int().min(1).max(1400).default(10),
  forgeWhen: z
    .enum(['idle', 'in-flight'])
    .default('idle')
    .describe(
      "idle: the client goes quiet and the server forges with the client's current ack, as Kubernetes' regression server does; " +
        'in-flight: the server forges as a client line arrives, with the ack from before it (a late segment)',
    ),
  echoesBeforeForge: z
    .number()
    .int()
    .min(0)
    .max(100)
    .default(1)
    .describe("idle: lines echoed before the client goes quiet (0: none, as `nc` in Kubernetes' e2e test); in-flight: the forge rides on the next line"),
  forgeAfterS: z
    .number()
    .min(0)
    .max(30)
    .default(0)
    .describe('in-flight only: the forge rides on the first line from echoesBeforeForge on that arrives this many seconds after the handshake'),
  failure: z
    .string()
    .min(1)
    .max(300)
    .default("the container's connection is reset or stalls")
    .describe('the failure the application sees when the bug bites, named in the verdict'),
  talkForS: z.number().min(1).max(120).default(5).describe('seconds the client talks at most; it ends sooner once echoesAfterForge are back'),
  echoesAfterForge: z
    .number()
    .int()
    .min(0)
    .max(100)
    .default(3)
    .describe('lines the client gets back after the forged segment before it ends intact (0: talk for talkForS)'),
  stallAfterS: z.number().min(0.5).max(60).default(1.5).describe('seconds without an echo that count as a stall'),
  lingerS: z.number().min(0).max(10).default(0.3).describe("seconds the server keeps watching for a RST after the connection (or the client's talk) ended"),
  intervalS: z.number().min(0.01).max(5).default(0.2),
});

type Params = z.output<typeof paramsSchema>;

interface Placement {
  clientHost: string;
  uplink: string;
  bridge: string | null;
}

function placement(ctx: ScenarioContext, params: Params): Placement {
  const client = ctx.node(params.client);
  const host = client.kind === 'container' ? ctx.node(client.host!) : client;
  const bridge = host.docker && client.kind === 'container' ? host.docker.bridge : null;
  return { clientHost: host.name, uplink: host.interfaces[0]!.name, bridge };
}

async function startCaptures(ctx: ScenarioContext, params: Params, where: Placement): Promise<void> {
  const tcpPort = ['tcp', 'port', String(params.port)];
  const serverIface = ctx.node(params.server).interfaces[0]!.name;
  const on = (node: string, iface: string) => ({ node, iface, filter: tcpPort });
  await ctx.captureAll([on(params.server, serverIface), on(where.clientHost, where.uplink), ...(where.bridge ? [on(where.clientHost, where.bridge)] : [])]);
}

/**
 * The lab's waits, scaled by how much slower programs run on the nodes (a guest under software emulation,
 * Transport.slowdown): the kernel's timers do not slow down there, the agents' loops do.
 */
export function waitsOf(params: Params, slowdown: number) {
  return {
    slowdown,
    settleS: IDLE_SETTLE_S * slowdown,
    talkForS: params.talkForS * slowdown,
    stallAfterS: params.stallAfterS * slowdown,
    lingerS: params.lingerS * slowdown,
    echoesAfterForge: params.echoesAfterForge,
  };
}

export type Waits = ReturnType<typeof waitsOf>;

/**
 * Idle forge: how long the server waits at most, once told to forge, for the client's delayed ACK of its last echo
 * (40 to 200 ms on Linux) so that the forged segment carries the current ack.
 */
const IDLE_SETTLE_S = 0.5;

/**
 * Idle: once the client reports it went quiet, the server forges; in flight the server forges by itself. Then the
 * client is told to go on and counts its last echoes from there. Missing events leave the judge to say what is missing.
 * After an idle forge the client stays quiet until the answer to the forged segment had time to reach the server (its
 * first RST after the forge, or settleS), as upstream's idle client does: a line sent before the client host's RST
 * arrives moves the server's window past that RST's sequence number and the server ignores it. On the qemu provider,
 * where that RST crosses the router's guest, a client that went on at once beat it (the RST 113 ms after the forge).
 */
async function forgeThenGo(params: Params, server: AgentRun, client: AgentRun, waits: Waits): Promise<void> {
  const within = (waits.talkForS + 5) * 1000;
  try {
    if (params.forgeWhen === 'idle') {
      await client.waitFor('idle', within);
      server.go();
    }
    await server.waitFor('forged', within);
    if (params.forgeWhen === 'idle') await server.waitFor('rst', waits.settleS * 1000, (e) => e.afterForge === true).catch(() => undefined);
  } catch {
    // the server ended or never forged: the client goes on (or talks for talkForS) and the judge says what is missing
  }
  if (client.running) client.go();
}

async function talk(ctx: ScenarioContext, params: Params, waits: Waits) {
  const server = await ctx.startAgent(params.server, 'server', 'oow_server.py', [
    '--port',
    String(params.port),
    '--forge-placement',
    params.forgePlacement,
    '--forge-offset',
    String(params.forgeOffset),
    '--payload-bytes',
    String(params.forgeBytes),
    '--forge-when',
    params.forgeWhen,
    '--forge-at-line',
    String(params.echoesBeforeForge),
    '--forge-after',
    String(params.forgeAfterS * waits.slowdown),
    '--settle',
    String(waits.settleS),
    '--linger',
    String(waits.lingerS),
    '--duration',
    String(waits.talkForS + waits.stallAfterS + 20),
  ]);
  const client = await ctx.startAgent(params.client, 'client', 'tcp_client.py', [
    '--server',
    ctx.address(params.server),
    '--port',
    String(params.port),
    '--interval',
    String(params.intervalS),
    '--duration',
    String(waits.talkForS),
    '--reply-timeout',
    String(waits.stallAfterS),
    '--echoes-after-go',
    String(waits.echoesAfterForge),
    '--pause-after',
    String(params.forgeWhen === 'idle' ? params.echoesBeforeForge : -1),
  ]);
  const going = forgeThenGo(params, server, client, waits);
  await client.finish((waits.talkForS + waits.stallAfterS + 10) * 1000);
  // The server ends by itself lingerS after its connection ends; a stalled connection never ends, so it is stopped then.
  await server.finish((waits.lingerS + 0.5 * waits.slowdown) * 1000);
  await going;
  return { server: parseSummary('server', serverSummarySchema, server.summary()), client: parseSummary('client', clientSummarySchema, client.summary()) };
}

/** The captures of an oow-rst run, named as a reason names them (the bridge's only where it was read). */
export function oowCaptures(atServer: TcpSegment[], uplink: TcpSegment[], bridge: TcpSegment[] | null) {
  return [
    { capture: "on the server's link", segments: atServer },
    { capture: "on the client host's uplink", segments: uplink },
    ...(bridge ? [{ capture: "on the client's bridge", segments: bridge }] : []),
  ];
}

/** Read the captures back, only this connection's segments (a previous variant's server socket may still retransmit). */
async function readPath(params: Params, serverAddr: string, pcaps: StoppedCapture[], server: ServerSummary, client: ClientSummary | null) {
  const reader = new CaptureReader();
  const read = (capture: StoppedCapture, filter: string) => reader.segments(capture.file, filter, capture);
  const [peerIp, peerPort] = (server.peer ?? ':').split(':');
  const connection = `tcp and host ${peerIp} and port ${peerPort} and port ${params.port}`;
  const containerPort = client?.local?.split(':')[1];
  const [atServer, uplink, docker0] = await Promise.all([
    read(pcaps[0]!, connection),
    read(pcaps[1]!, connection),
    pcaps[2] && containerPort ? read(pcaps[2], `tcp and port ${containerPort} and port ${params.port}`) : [],
  ]);
  const inner = pcaps[2] ? docker0 : uplink;
  const serverEnd = `${serverAddr}.${params.port}`;
  const forged = server.forged!;
  const rsts = rstsAtServerAfterForged(atServer, forged, serverEnd);
  const unseen = connectionUnseen(oowCaptures(atServer, uplink, pcaps[2] && containerPort ? docker0 : null));
  return {
    problems: reader.problems.length ? reader.problems : unseen,
    rsts,
    path: clientHostPath({ forged, serverEnd, uplink, inner, natBetween: pcaps[2] !== undefined }),
  };
}

export const oowRstScenario: Scenario<Params, OowEvidence> = {
  kind: 'oow-rst',
  summary: 'a forged segment outside the window from the server; does the client host reset, or stall, the connection?',
  params: paramsSchema,
  nodeRefs: (p) => refsTo(p, 'client', 'server'),

  async run(ctx, params) {
    const where = placement(ctx, params);
    const serverAddr = ctx.address(params.server);
    const [, before] = await Promise.all([startCaptures(ctx, params, where), ctx.conntrackCounters(where.clientHost, 'before')]);
    const slowdown = Math.max(ctx.transport(params.server).slowdown ?? 1, ctx.transport(params.client).slowdown ?? 1);
    const waits = waitsOf(params, slowdown);
    const summaries = await talk(ctx, params, waits);
    // Independent reads run at once: under variants at once each process start waits for a core.
    const [, pcaps] = await Promise.all([ctx.snapshot(where.clientHost, 'conntrack-L-after', ['conntrack', '-L', '-p', 'tcp']), ctx.stopCaptures()]);
    const after = await ctx.conntrackCounters(where.clientHost, 'after');

    const server = summaries.server.ok ? summaries.server.value : null;
    const client = summaries.client.ok ? summaries.client.value : null;
    const [seen, rmem, kernel] = await Promise.all([
      server?.forged ? readPath(params, serverAddr, pcaps, server, client) : null,
      ctx.snapshot(params.client, 'tcp_rmem', ['cat', '/proc/sys/net/ipv4/tcp_rmem']),
      ctx.kernel(where.clientHost),
    ]);
    return {
      kernel,
      clientTcpRmem: /^\d+\s+\d+\s+\d+\s*$/.test(rmem) ? rmem.trim().replace(/\s+/g, ' ') : null,
      clientPlacement: where.bridge ? `container ${params.client} behind ${where.clientHost}'s Docker NAT` : `directly on ${params.client}, no NAT`,
      trigger: { placement: params.forgePlacement, offset: params.forgeOffset, bytes: params.forgeBytes, when: params.forgeWhen },
      waits,
      server: summaries.server,
      client: summaries.client,
      captureProblems: seen?.problems ?? [],
      rstAtServer: {
        fromAgent: server?.rstsAfterForge ?? null,
        fromPcap: seen ? seen.rsts.length : null,
        firstMsAfterForge: server?.firstRstMsAfterForge ?? null,
        packets: (seen?.rsts ?? []).slice(0, 5).map((s) => s.line),
        atServer: (seen?.rsts ?? []).slice(0, 5),
      },
      clientHostPath: seen?.path ?? null,
      conntrack: invalidCounters(where.clientHost, before, after),
      ...ctx.artifacts(pcaps),
    };
  },

  judge: (evidence, params) => judgeOow(evidence, params.failure),
  rules: {
    measures: OOW_MEASURES,
    measure: (evidence) => oowMeasures(evidence),
    preconditions: (evidence, params) => oowPreconditions(evidence, params.failure),
    details: (evidence, params) => oowDetails(evidence, params.failure),
  },
};
