/**
 * moby-15127: a UDP server bound to 0.0.0.0 on a multi-homed host answers a container that wrote
 * to the host's uplink address. With plain recvfrom/sendto the kernel picks the source by route
 * (docker0's address); the container's connected socket refuses it with ICMP port unreachable.
 * Evidence: what the client received, the replies' source addresses and the ICMP errors on docker0.
 */
import * as z from 'zod';
import { refsTo, type Scenario, type ScenarioMeasure } from './types.js';
import { verdict, type InconclusiveKind, type Verdict, type VerdictValue } from '../verdict.js';
import { CaptureReader, hasPayload, type CaptureStats, type TcpSegment } from '../pcap.js';
import { parseSummary } from '../summary.js';

const paramsSchema = z.strictObject({
  server: z.string().describe('the multi-homed host running the echo server'),
  client: z.string().describe('the container that sends'),
  mode: z.enum(['recvfrom-any', 'bind-address', 'pktinfo', 'tcp']).default('recvfrom-any'),
  port: z.number().int().min(1).max(65535).default(56789),
  count: z.number().int().min(1).max(1000).default(5),
  intervalS: z.number().min(0.01).max(5).default(0.2),
  replyTimeoutS: z.number().min(0.1).max(10).default(1),
});

type Params = z.output<typeof paramsSchema>;

const clientSummarySchema = z.object({ sent: z.number().int(), received: z.number().int(), replySources: z.array(z.string()), errors: z.array(z.string()) });

export interface ReplyEvidence {
  kernel: string;
  mode: string;
  target: string;
  client: z.output<typeof clientSummarySchema> | null;
  /** Why client is null: no summary, or one that does not parse. */
  clientProblem?: string | null;
  server: unknown;
  captureProblems?: string[];
  onBridge: { replies: number; replySources: string[]; wrongSourceReplies: number; icmpPortUnreachableFromClient: number; samples: string[] };
  pcaps: Array<{ file: string; captured: number | null; droppedByKernel: number | null }>;
  agentLogs: string[];
}

/** The numbers moby-15127's rules may compare, by name, with what each counts. */
export const REPLY_MEASURES = {
  clientSent: 'datagrams (or lines, over TCP) the client sent',
  clientReceived: 'replies that reached the client',
  repliesMissing: 'replies the client never got: sent minus received',
  repliesOnBridge: "the server's replies toward the client on docker0",
  wrongSourceReplies: 'of those, replies from an address other than the one the client wrote to',
  icmpPortUnreachableFromClient: 'ICMP port unreachable the client sent back on docker0',
} as const;

export const udpReplySourceScenario: Scenario<Params, ReplyEvidence> = {
  kind: 'udp-reply-source',
  summary: "a container writes to the host's uplink address; does the reply come back from that address?",
  params: paramsSchema,
  nodeRefs: (p) => refsTo(p, 'server', 'client'),
  check(p, lab) {
    const client = lab.nodes.find((n) => n.name === p.client);
    return client && (client.kind !== 'container' || client.host !== p.server) ? [`client must be a container of ${p.server}`] : [];
  },

  async run(ctx, params) {
    const host = ctx.node(params.server);
    const target = ctx.address(params.server);
    const bridge = host.docker?.bridge ?? 'docker0';
    const proto = params.mode === 'tcp' ? 'tcp' : 'udp';
    const capture = await ctx.capture(params.server, bridge, `${params.server}-${bridge}`, [`${proto} port ${params.port} or icmp`]);
    // The server must outlive the client's start, which takes several times longer in a TCG guest.
    const slack = 20 * (ctx.transport(params.server).slowdown ?? 1);
    const server = await ctx.startAgent(params.server, 'server', 'udp_echo_server.py', [
      '--mode',
      params.mode,
      '--port',
      String(params.port),
      '--address',
      target,
      '--duration',
      String(params.count * params.intervalS + params.replyTimeoutS + slack),
    ]);
    const client = await ctx.startAgent(params.client, 'client', 'udp_client.py', [
      '--server',
      target,
      '--port',
      String(params.port),
      '--count',
      String(params.count),
      '--interval',
      String(params.intervalS),
      '--timeout',
      String(params.replyTimeoutS),
      '--proto',
      proto,
    ]);
    await client.finish((params.count * params.intervalS + params.replyTimeoutS + 15) * 1000);
    await server.stop();
    const pcap = await capture.stop();

    const reader = new CaptureReader();
    const onBridge = await readBridge(reader, pcap.file, { proto, port: params.port, client: ctx.address(params.client), target }, pcap);
    const summary = parseSummary('client', clientSummarySchema, client.summary());
    const serverSummary = server.summary() ?? null;
    return {
      kernel: (await ctx.transport(params.server).exec(['uname', '-r'])).stdout.trim(),
      mode: params.mode,
      target,
      client: summary.ok ? summary.value : null,
      clientProblem: summary.ok ? null : summary.problem,
      server: serverSummary,
      captureProblems: reader.problems,
      onBridge,
      pcaps: [{ file: ctx.relative(pcap.file), captured: pcap.captured, droppedByKernel: pcap.droppedByKernel }],
      agentLogs: ['server', 'client'].map((l) => ctx.relative(`${ctx.dir}/agents/${l}.jsonl`)),
    };
  },

  judge: (evidence, params) => judgeReplies(evidence, params.mode),
  rules: {
    measures: REPLY_MEASURES,
    measure: (evidence) => replyMeasures(evidence),
    preconditions: (evidence, params) => replyPreconditions(evidence, params.mode),
    details: (evidence, params) => {
      if (replyPreconditions(evidence, params.mode)) return {};
      const v = judgeReplies(evidence, params.mode);
      return { ...(v.outcome ? { outcome: v.outcome } : {}), ...(v.mechanism ? { mechanism: v.mechanism } : {}) };
    },
  },
};

/** The replies toward the client on the bridge and their sources, and the client's ICMP errors, read back from the capture. */
export async function readBridge(
  reader: CaptureReader,
  file: string,
  at: { proto: 'udp' | 'tcp'; port: number; client: string; target: string },
  stats?: CaptureStats,
) {
  const toClient = `${at.proto} and src port ${at.port} and dst host ${at.client}`;
  // TCP: the echoed lines, one segment each (counted once: a retransmission is the same reply); UDP: every datagram.
  const replies = at.proto === 'udp' ? await reader.lines(file, toClient, stats) : uniqueBySeq(await reader.segments(file, toClient, stats)).map((s) => s.line);
  const replySources = [...new Set(replies.map((l) => / IP (\d+\.\d+\.\d+\.\d+)\.\d+ > /.exec(l)?.[1]).filter((s): s is string => Boolean(s)))];
  const unreachable = await reader.lines(file, `icmp and src host ${at.client} and icmp[icmptype] == icmp-unreach`, stats);
  return {
    replies: replies.length,
    replySources,
    wrongSourceReplies: replies.filter((l) => !l.includes(` IP ${at.target}.`)).length,
    icmpPortUnreachableFromClient: unreachable.length,
    samples: [...replies.slice(0, 3), ...unreachable.slice(0, 3)],
  };
}

function uniqueBySeq(segments: TcpSegment[]): TcpSegment[] {
  const seen = new Set<number>();
  return segments.filter((s) => hasPayload(s) && !seen.has(s.seq!) && seen.add(s.seq!));
}

export const REPLY_FAILURE =
  "replies not received: they leave the host from another address than the one the client wrote to, and the client's socket refuses them (ICMP port unreachable)";

/**
 * Outcome first: the client's count of replies says whether the application failed; the capture on the bridge says from
 * which address the replies left (the mechanism) and must agree with the client: every reply from the right address
 * reached the client, and none from another one did.
 */
export function judgeReplies(evidence: ReplyEvidence, mode: string): Verdict {
  const { client, onBridge: bridge, target } = evidence;
  if (!client) return verdict('INCONCLUSIVE', evidence.clientProblem ?? 'the client agent produced no summary', ['client']);
  if (client.sent === 0) return verdict('INCONCLUSIVE', 'the client sent nothing', ['client.sent']);
  const problems = evidence.captureProblems ?? [];
  if (problems.length > 0) return verdict('INCONCLUSIVE', problems.join('; '), ['captureProblems']);
  const over = mode === 'tcp' ? 'over TCP, ' : '';
  const got = `${over}${client.received}/${client.sent} replies reached the client`;
  const wrong = bridge.wrongSourceReplies;
  const fromTarget = bridge.replies - wrong;
  const others = bridge.replySources.filter((s) => s !== target).join(', ');
  const mechanismDetail =
    wrong > 0
      ? `${wrong} of ${bridge.replies} replies left the host from ${others} instead of ${target}; the client answered ${bridge.icmpPortUnreachableFromClient} with ICMP port unreachable`
      : `all ${bridge.replies} replies on the bridge came from ${target}`;
  const decide = (value: VerdictValue, reason: string, decidedBy: string[], kind?: InconclusiveKind): Verdict => ({
    ...verdict(value, reason, decidedBy, kind),
    outcome: { failure: REPLY_FAILURE, seen: client.received < client.sent, detail: got },
    mechanism: { name: 'replies leave from the address of the route (docker0), not the one the client wrote to', seen: wrong > 0, detail: mechanismDetail },
  });
  if (bridge.replies === 0) return decide('INCONCLUSIVE', `no reply from the server crossed the bridge at all (${got})`, ['onBridge.replies']);
  if (fromTarget !== client.received) {
    const why = `the capture shows ${fromTarget} replies from ${target} toward the client, the client counts ${client.received}: agent and capture disagree`;
    return decide('INCONCLUSIVE', why, ['onBridge.replies', 'client.received'], 'evidence-conflict');
  }
  if (client.received < client.sent) {
    if (wrong > 0)
      return decide('REPRODUCED', `${got}: ${mechanismDetail}`, ['client.received', 'onBridge.replySources', 'onBridge.icmpPortUnreachableFromClient']);
    return decide('INCONCLUSIVE', `${got}, yet no reply left from another address: the replies were lost for another reason`, ['client.received', 'onBridge']);
  }
  if (wrong > 0) {
    return decide('NOT_REPRODUCED', `${wrong} replies left from ${others}, but ${got}`, ['client.received', 'onBridge.replySources']);
  }
  return decide('NOT_REPRODUCED', `${got}, every one from ${target}, the address the client wrote to`, ['client.received', 'onBridge.replySources']);
}

/**
 * What must hold before moby-15127's rules judge a run: the client reported and sent, the capture read, a reply crossed
 * the bridge at all, and the replies the capture shows from the address the client wrote to are the ones it counted.
 */
export function replyPreconditions(evidence: ReplyEvidence, mode: string): Verdict | undefined {
  const { client, onBridge: bridge } = evidence;
  const failing = !client || client.sent === 0 || (evidence.captureProblems ?? []).length > 0 || bridge.replies === 0;
  return failing || bridge.replies - bridge.wrongSourceReplies !== client.received ? judgeReplies(evidence, mode) : undefined;
}

export function replyMeasures(evidence: ReplyEvidence): Record<keyof typeof REPLY_MEASURES, ScenarioMeasure> {
  const c = evidence.client;
  const noClient = { value: null, missing: evidence.clientProblem ?? 'the client agent produced no summary' };
  const b = evidence.onBridge;
  return {
    clientSent: c ? { value: c.sent } : noClient,
    clientReceived: c ? { value: c.received } : noClient,
    repliesMissing: c ? { value: c.sent - c.received } : noClient,
    repliesOnBridge: { value: b.replies },
    wrongSourceReplies: { value: b.wrongSourceReplies },
    icmpPortUnreachableFromClient: { value: b.icmpPortUnreachableFromClient },
  };
}
