/**
 * docker-desktop-udp: a host-side server streams UDP to a container's published port while the
 * container holds a TCP connection to it; the container app closes its sockets in a chosen order.
 * The report says closing UDP before TCP makes the published UDP binding disappear until the
 * container restarts. Phases run in one sequence (state carries over), each with socket-table,
 * conntrack and forwarding-rule snapshots before, during and after, on the host side and the VM.
 */
import * as z from 'zod';
import { refsTo, type Scenario } from './types.js';
import { CaptureReader } from '../pcap.js';
import {
  judgeSequence,
  SEQUENCE_MEASURES,
  sequenceMeasures,
  sequencePreconditions,
  type Moment,
  type PhaseEvidence,
  type SequenceEvidence,
} from './udp-binding-sequence-judge.js';

export type { SequenceEvidence } from './udp-binding-sequence-judge.js';
import type { ScenarioContext, StoppedCapture } from '../context.js';
import type { AgentRun } from '../agent.js';
import { parseSummary } from '../summary.js';

const phaseSchema = z.strictObject({ label: z.string().regex(/^[A-Z0-9_]{1,20}$/, 'a label such as PROPER_1'), closeOrder: z.enum(['proper', 'buggy']) });

const paramsSchema = z.strictObject({
  host: z.string().describe('the host side running the server (a docker-desktop-wsl2 node, or a docker host)'),
  app: z.string().describe('the container'),
  tcpPort: z.number().int().min(1).max(65535).default(11002),
  udpPort: z.number().int().min(1).max(65535).default(54603),
  runSeconds: z.number().min(0.5).max(60).default(3),
  udpIntervalS: z.number().min(0.005).max(1).default(0.05),
  phases: z
    .array(phaseSchema)
    .min(1)
    .default([
      { label: 'PROPER_1', closeOrder: 'proper' },
      { label: 'PROPER_2', closeOrder: 'proper' },
      { label: 'BUGGY_1', closeOrder: 'buggy' },
      { label: 'BUGGY_2', closeOrder: 'buggy' },
    ]),
});

type Params = z.output<typeof paramsSchema>;
/** The binding that counts is the forwarder's: a UDP socket on the published port owned by docker-proxy, not any socket on that port. */
export function forwarderBinding(ssLine: string, port: number): boolean {
  return ssLine.startsWith('udp') && new RegExp(`:${port}\\s`).test(ssLine) && ssLine.includes('(("docker-proxy"');
}

const sideOf = (ctx: ScenarioContext, p: Params) => {
  const app = ctx.node(p.app);
  const vm = app.host!;
  const host = ctx.node(p.host);
  return { vm, host: host.name, hostIsVm: host.name === vm };
};

export const udpBindingSequenceScenario: Scenario<Params, SequenceEvidence> = {
  kind: 'udp-binding-sequence',
  summary: 'PROPER and BUGGY socket-close orders in sequence; does the published UDP binding disappear?',
  params: paramsSchema,
  nodeRefs: (p) => refsTo(p, 'host', 'app'),
  check(p, lab) {
    const app = lab.nodes.find((n) => n.name === p.app);
    if (!app || app.kind !== 'container') return [`app must be a container (found ${p.app})`];
    const vm = lab.nodes.find((n) => n.name === app.host)!;
    const published = vm.docker?.publish.some((x) => x.proto === 'udp' && x.hostPort === p.udpPort && x.container === p.app);
    return published ? [] : [`${app.host} must publish udp port ${p.udpPort} for ${p.app}`];
  },

  async run(ctx, params) {
    const { vm, host } = sideOf(ctx, params);
    const hostNode = ctx.node(host);
    const serverAddr = hostNode.desktop ? hostNode.interfaces.find((i) => i.peer?.node === vm)!.address : ctx.address(host);
    const sides = [...new Set([host, vm])];
    const bridge = ctx.node(vm).docker!.bridge;
    await ctx.capture(vm, bridge, `${vm}-${bridge}`, [`udp port ${params.udpPort}`]);
    const switchIface = hostNode.desktop?.switchIface;
    if (switchIface) await ctx.capture(host, switchIface, `${host}-${switchIface}`, [`udp port ${params.udpPort} or tcp port ${params.tcpPort}`]);
    const server = await ctx.startAgent(host, 'server', 'dual_server.py', [
      '--tcp-port',
      String(params.tcpPort),
      '--udp-host',
      '127.0.0.1',
      '--udp-port',
      String(params.udpPort),
      '--udp-interval',
      String(params.udpIntervalS),
      '--duration',
      String(params.phases.length * (params.runSeconds + 15) + 30),
    ]);
    const phases: PhaseEvidence[] = [];
    const snapshotProblems: string[] = [];
    for (const phase of params.phases) phases.push(await runPhase(ctx, params, { server, serverAddr, sides, vm, snapshotProblems }, phase, phases.length + 1));
    await server.stop();
    const pcaps = await ctx.stopCaptures();
    const reader = new CaptureReader();
    for (const [i, phase] of phases.entries()) {
      const count = async (capture: StoppedCapture) =>
        (await reader.lines(capture.file, `udp and dst port ${params.udpPort} and ${sessionFilter(i + 1)}`, capture)).length;
      phase.captured = { onBridge: await count(pcaps[0]!), onSwitch: switchIface ? await count(pcaps[1]!) : null };
    }
    return {
      kernel: await ctx.kernel(vm),
      emulated: hostNode.desktop
        ? `host side ${host} with a userland port forwarder (docker-proxy) on udp/${params.udpPort}, a NATed switch to the VM ${vm}, ` +
          `Docker's DNAT rules and docker-proxy inside the VM, container ${params.app}`
        : `a plain Docker host ${vm} with Docker's DNAT rules and docker-proxy`,
      notEmulated: hostNode.desktop
        ? "Docker Desktop's own Windows-side forwarding (com.docker.backend/vpnkit) and the Hyper-V switch: " +
          'docker-proxy and a Linux bridge-free veth switch stand in for them'
        : 'nothing: the path is a plain Docker host with its own parts',
      standIn: Boolean(hostNode.desktop),
      captureProblems: reader.problems,
      snapshotProblems,
      phases,
      pcaps: ctx.artifacts(pcaps).pcaps,
    };
  },

  judge: (evidence) => judgeSequence(evidence),
  rules: {
    measures: SEQUENCE_MEASURES,
    measure: (evidence) => sequenceMeasures(evidence),
    preconditions: (evidence) => sequencePreconditions(evidence),
    details: (evidence) => {
      if (sequencePreconditions(evidence)) return {};
      const v = judgeSequence(evidence);
      return { ...(v.outcome ? { outcome: v.outcome } : {}), ...(v.mechanism ? { mechanism: v.mechanism } : {}) };
    },
  },
};

const appSummarySchema = z.object({ udpReceived: z.number().int(), tcpConnected: z.boolean() });

interface Sequence {
  server: AgentRun;
  serverAddr: string;
  sides: string[];
  vm: string;
  snapshotProblems: string[];
}

/** The datagrams of one TCP session: dual_server.py writes "udp <session> <n>\n". */
export function sessionFilter(session: number): string {
  const bytes = [...`udp ${session} `].map((c, i) => `udp[${8 + i}:1] = 0x${c.charCodeAt(0).toString(16)}`);
  return `( ${bytes.join(' and ')} )`;
}

/** A snapshot kept as a file, with its exit status: a command that failed says nothing about the binding. */
async function snapshot(ctx: ScenarioContext, seq: Sequence, node: string, label: string, argv: string[]): Promise<string | null> {
  const out = await ctx.transport(node).exec(argv, { check: false });
  const text = out.stdout + (out.stderr ? `\n# stderr\n${out.stderr}` : '');
  ctx.writeArtifact(`snapshots/${label}.txt`, `# ${node}: ${argv.join(' ')} (exit ${out.exitCode})\n${text}`);
  if (out.exitCode === 0) return out.stdout;
  seq.snapshotProblems.push(`${node}: ${argv.join(' ')} exited with ${out.exitCode} (snapshots/${label}.txt)`);
  return null;
}

/** ss, conntrack and the DOCKER nat chain on each side; the binding that counts is docker-proxy's. */
async function snapshotSides(ctx: ScenarioContext, params: Params, seq: Sequence, label: string, moment: Moment) {
  const files: string[] = [];
  const binding: Record<string, boolean | null> = {};
  for (const side of seq.sides) {
    const ss = await snapshot(ctx, seq, side, `${label}-${moment}-${side}-ss`, ['ss', '-tulpn']);
    files.push(`snapshots/${label}-${moment}-${side}-ss.txt`);
    binding[side] = ss === null ? null : ss.split('\n').some((l) => forwarderBinding(l, params.udpPort));
  }
  await snapshot(ctx, seq, seq.vm, `${label}-${moment}-${seq.vm}-conntrack-udp`, ['conntrack', '-L', '-p', 'udp']);
  await snapshot(ctx, seq, seq.vm, `${label}-${moment}-${seq.vm}-nat-DOCKER`, ['iptables', '-t', 'nat', '-S', 'DOCKER']);
  files.push(`snapshots/${label}-${moment}-${seq.vm}-conntrack-udp.txt`, `snapshots/${label}-${moment}-${seq.vm}-nat-DOCKER.txt`);
  return { binding, files };
}

/** One phase: snapshots before, during and after the app runs and closes its sockets in the phase's order. */
async function runPhase(ctx: ScenarioContext, params: Params, seq: Sequence, phase: Params['phases'][number], session: number): Promise<PhaseEvidence> {
  const pre = await snapshotSides(ctx, params, seq, phase.label, 'pre');
  const app = await ctx.startAgent(params.app, `app-${phase.label}`, 'dual_app.py', [
    '--server',
    seq.serverAddr,
    '--tcp-port',
    String(params.tcpPort),
    '--udp-port',
    String(params.udpPort),
    '--run-seconds',
    String(params.runSeconds),
    '--close-order',
    phase.closeOrder,
    '--label',
    phase.label,
  ]);
  await new Promise((r) => setTimeout(r, (params.runSeconds * 1000) / 2));
  const during = await snapshotSides(ctx, params, seq, phase.label, 'during');
  await app.finish((params.runSeconds + 15) * 1000);
  await new Promise((r) => setTimeout(r, 500));
  const post = await snapshotSides(ctx, params, seq, phase.label, 'post');
  const summary = parseSummary(`app-${phase.label}`, appSummarySchema, app.summary());
  const closed = seq.server.all('tcp_closed').find((e) => e.session === session);
  return {
    label: phase.label,
    closeOrder: phase.closeOrder,
    udpSent: typeof closed?.udpSent === 'number' ? closed.udpSent : null,
    udpReceived: summary.ok ? summary.value.udpReceived : null,
    tcpConnected: summary.ok ? summary.value.tcpConnected : null,
    binding: Object.fromEntries(seq.sides.map((s) => [s, { pre: pre.binding[s]!, during: during.binding[s]!, post: post.binding[s]! }])),
    snapshots: [...pre.files, ...during.files, ...post.files],
  };
}
