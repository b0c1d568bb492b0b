/**
 * moby-15127: a UDP server bound to 0.0.0.0 on a multi-homed host answers a container that wrote
 * to the host's uplink address. With plain recvfrom/sendto the kernel picks the source by route
 * (docker0's address); the container's connected socket refuses it with ICMP port unreachable.
 * Evidence: what the client received, the replies' source addresses and the ICMP errors on docker0.
 */
import * as z from 'zod';
import { refsTo, type Scenario } from './types.js';
import { verdict } from '../verdict.js';
import { CaptureReader } from '../pcap.js';
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

    const clientAddr = ctx.address(params.client);
    const reader = new CaptureReader();
    const lines = (filter: string) => reader.lines(pcap.file, filter);
    const replies = proto === 'udp' ? await lines(`udp and src port ${params.port} and dst host ${clientAddr}`) : [];
    const replySources = [...new Set(replies.map((l) => / IP (\d+\.\d+\.\d+\.\d+)\.\d+ > /.exec(l)?.[1]).filter((s): s is string => Boolean(s)))];
    const unreachable = await lines(`icmp and src host ${clientAddr} and icmp[icmptype] == icmp-unreach`);
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
      onBridge: {
        replies: replies.length,
        replySources,
        wrongSourceReplies: replies.filter((l) => !l.includes(` IP ${target}.`)).length,
        icmpPortUnreachableFromClient: unreachable.length,
        samples: [...replies.slice(0, 3), ...unreachable.slice(0, 3)],
      },
      pcaps: [{ file: ctx.relative(pcap.file), captured: pcap.captured, droppedByKernel: pcap.droppedByKernel }],
      agentLogs: ['server', 'client'].map((l) => ctx.relative(`${ctx.dir}/agents/${l}.jsonl`)),
    };
  },

  judge(evidence, params) {
    const { client, onBridge: bridge, target } = evidence;
    if (!client) return verdict('INCONCLUSIVE', evidence.clientProblem ?? 'the client agent produced no summary', ['client']);
    if (client.sent === 0) return verdict('INCONCLUSIVE', 'the client sent nothing', ['client.sent']);
    const problems = evidence.captureProblems ?? [];
    if (params.mode !== 'tcp' && problems.length > 0) return verdict('INCONCLUSIVE', problems.join('; '), ['captureProblems']);
    const got = `${client.received}/${client.sent} replies reached the client`;
    if (params.mode === 'tcp') {
      return client.received === client.sent
        ? verdict('NOT_REPRODUCED', `over TCP ${got}`, ['client.received'])
        : verdict('INCONCLUSIVE', `over TCP only ${got}; TCP replies always come from the connected address, so something else failed`, [
            'client.received',
            'client.errors',
          ]);
    }
    if (bridge.replies === 0) return verdict('INCONCLUSIVE', `no reply from the server crossed ${'docker0'} at all (${got})`, ['onBridge.replies']);
    if (bridge.wrongSourceReplies > 0 && client.received < client.sent) {
      return verdict(
        'REPRODUCED',
        `${bridge.wrongSourceReplies} of ${bridge.replies} replies left the host from ${bridge.replySources.filter((s) => s !== target).join(', ')} instead of ${target}; ${got} and the client answered ${bridge.icmpPortUnreachableFromClient} with ICMP port unreachable`,
        ['onBridge.replySources', 'client.received', 'onBridge.icmpPortUnreachableFromClient'],
      );
    }
    if (bridge.wrongSourceReplies === 0 && client.received === client.sent) {
      return verdict('NOT_REPRODUCED', `every reply came from ${target}, the address the client wrote to; ${got}`, [
        'onBridge.replySources',
        'client.received',
      ]);
    }
    return verdict('INCONCLUSIVE', `replies from ${bridge.replySources.join(', ')} with ${got}: the capture and the client do not tell one story`, [
      'onBridge',
      'client',
    ]);
  },
};
