/** docker-1090: the evidence a run of oow-rst collects, its agents' summaries, and the verdict that follows from it. */
import * as z from 'zod';
import { verdict, type Verdict } from '../verdict.js';
import type { Parsed } from '../summary.js';
import type { ClientHostPath } from './oow-rst-path.js';

export const serverSummarySchema = z.object({
  established: z.boolean(),
  peer: z.string().nullable(),
  local: z.string().nullable(),
  forged: z
    .object({ seq: z.number().int(), baseSeq: z.number().int(), offset: z.number().int(), placement: z.enum(['ahead', 'behind']), length: z.number().int() })
    .nullable(),
  rstsAfterForge: z.number().int(),
  firstRstMsAfterForge: z.number().nullable(),
  bytesEchoedAfterForge: z.number().int().nullable(),
  connectionEnd: z.string(),
});

export const clientSummarySchema = z.object({
  outcome: z.enum(['intact', 'reset', 'timeout', 'error', 'stopped']).nullable(),
  sent: z.number().int(),
  echoed: z.number().int(),
  error: z.string().nullable(),
  local: z.string().nullable(),
  /** The longest the client waited for an echo it got: how close a healthy connection came to the stall threshold. */
  longestEchoWaitMs: z.number().nullable().optional(),
  /** Echoes of lines sent after the run told the client the forged segment had left the server. */
  echoesAfterGo: z.number().int().optional(),
});

export type ServerSummary = z.output<typeof serverSummarySchema>;
export type ClientSummary = z.output<typeof clientSummarySchema>;

export interface OowEvidence {
  kernel: string;
  /**
   * The client's net.ipv4.tcp_rmem (min default max), copied from the machine's own when its namespace was made: it
   * sets how far the client's window has opened when the segment is forged, so which segment turns INVALID.
   */
  clientTcpRmem?: string | null;
  clientPlacement: string;
  trigger: { placement: 'ahead' | 'behind'; offset: number; bytes: number };
  /** The waits this run used (the lab's, scaled by the nodes' slowdown); absent in runs recorded before they were reported. */
  waits?: { slowdown: number; forgeAfterS: number; talkForS: number; stallAfterS: number; lingerS: number; echoesAfterForge: number };
  server: Parsed<ServerSummary>;
  client: Parsed<ClientSummary>;
  /** Problems reading the captures; any one makes the run INCONCLUSIVE. */
  captureProblems: string[];
  rstAtServer: { fromAgent: number | null; fromPcap: number | null; firstMsAfterForge: number | null; packets: string[] };
  clientHostPath: ClientHostPath | null;
  conntrack: { node: string; invalidBefore: number | null; invalidAfter: number | null; invalidDelta: number | null };
  pcaps: Array<{ file: string; captured: number | null; droppedByKernel: number | null }>;
  agentLogs: string[];
}

function forgedFate(path: ClientHostPath): string {
  if (path.forgedForwardedToContainer === false) return 'the forged segment was not forwarded to the container';
  const where = path.forgedForwardedToContainer ? 'was de-NATed and forwarded to the container' : 'reached the client';
  const a = path.clientAnswerToForged;
  if (!a) return `the forged segment ${where}, which did not answer it`;
  const kind = a.duplicateAck ? 'a duplicate ACK' : a.line.includes('Flags [R') ? 'a RST' : 'an ACK';
  return `the forged segment ${where}, which answered with ${kind}${a.dsackOfForged ? ' with a D-SACK of the forged bytes' : ''}`;
}

/** Which segment the client host's RST answered, and what that says about conntrack. */
export function rstMechanism(path: ClientHostPath): string {
  const answered = path.rstAnsweredSegment;
  if (!answered) return 'no server segment precedes the RST in the client host capture';
  if (answered.isForgedSegment && path.forgedForwardedToContainer !== true) {
    return "the RST answered the forged segment itself: it was INVALID, skipped the de-NAT and the client host's own stack answered it";
  }
  if (answered.isForgedSegment) return 'the RST followed the forged segment, although that segment was also forwarded to the container';
  const lost = answered.forwardedToContainer === false ? ' that was INVALID and not forwarded to the container (no de-NAT), so' : ' that';
  return `${forgedFate(path)}, and moved conntrack's window; the RST answered a later, legitimate server segment${lost} the client host's own stack answered`;
}

/**
 * Server data segments that must reach the client after the forged one before "the connection survived" holds. Every
 * failure seen shows on the first server segment after the forged one (the RST answers it, or it is dropped); a second
 * one shows the first was not a lone survivor. A run that ends sooner is INCONCLUSIVE, however short its waits.
 */
export const MIN_DELIVERED_AFTER_FORGED = 2;

export function judgeOow(e: OowEvidence): Verdict {
  if (!e.server.ok) return verdict('INCONCLUSIVE', e.server.problem, ['server']);
  if (!e.client.ok) return verdict('INCONCLUSIVE', e.client.problem, ['client']);
  if (e.captureProblems.length > 0) return verdict('INCONCLUSIVE', e.captureProblems.join('; '), ['captureProblems']);
  const server = e.server.value;
  const client = e.client.value;
  const path = e.clientHostPath;
  if (!server.established) return verdict('INCONCLUSIVE', 'the client never established its connection to the server', ['server.established']);
  if (!server.forged || !path) return verdict('INCONCLUSIVE', 'the connection ended before the segment could be forged', ['server.forged']);
  if (!path.forgedSeenOnUplink) {
    return verdict('INCONCLUSIVE', 'the forged segment was not seen arriving on the client host, so nothing was tested', ['clientHostPath.forgedSeenOnUplink']);
  }
  const rst = e.rstAtServer;
  const agentSaw = (rst.fromAgent ?? 0) > 0;
  const pcapSaw = (rst.fromPcap ?? 0) > 0;
  if (agentSaw !== pcapSaw) {
    const counts = `the server agent counted ${rst.fromAgent} RST(s) after the forged segment but the server-link capture shows ${rst.fromPcap}`;
    return verdict('INCONCLUSIVE', counts, ['rstAtServer']);
  }
  const delta = e.conntrack.invalidDelta;
  const invalid = delta === null ? 'conntrack invalid counter unavailable' : `conntrack invalid +${delta} on the client host`;
  const echoes = `client ${client.echoed}/${client.sent} echoes`;
  if (agentSaw) {
    return verdict(
      'REPRODUCED',
      `the client host reset the connection ${rst.firstMsAfterForge} ms after the forged segment: ${rstMechanism(path)} ` +
        `(${invalid}; client outcome ${client.outcome})`,
      ['rstAtServer', 'clientHostPath', 'conntrack.invalidDelta', 'client.outcome'],
    );
  }
  const held = path.serverDataSegmentsNotForwardedToContainer?.length ?? 0;
  if (client.outcome === 'timeout' && path.serverDataSegmentsNotForwardedToContainer?.length === 0) {
    // Every server segment reached the container: it was slow (a stall threshold too short for this machine), not held.
    const why = `the client timed out (${echoes}), but every server data segment on the client host's uplink reached the container: slow, not stalled`;
    return verdict('INCONCLUSIVE', why, ['client.outcome', 'clientHostPath.serverDataSegmentsNotForwardedToContainer']);
  }
  if (client.outcome === 'timeout') {
    const retried = path.mostRetriedHeldSegment;
    const resent = retried && retried.times > 1 ? ` (one of them sent ${retried.times} times over ${retried.overMs} ms: the server's retransmissions)` : '';
    const dropped = held > 0 ? `; ${held} server segment(s) never reached the container${resent}` : '';
    const died = `no RST reached the server, but the connection died, the client timed out (${echoes})${dropped}`;
    return verdict('REPRODUCED', `stall, not reset: ${died}; ${forgedFate(path)} (${invalid})`, [
      'client.outcome',
      'rstAtServer',
      'clientHostPath',
      'conntrack.invalidDelta',
    ]);
  }
  if (client.outcome !== 'intact') {
    const ended = `"${client.outcome ?? 'unknown'}" (${client.error ?? 'no error'})`;
    const why = `no RST from the client host reached the server, but the client's connection ended as ${ended}`;
    return verdict('INCONCLUSIVE', why, ['rstAtServer', 'client.outcome']);
  }
  const flowed = client.echoed === client.sent && (server.bytesEchoedAfterForge ?? 0) > 0 && path.serverDataDeliveredAfterForged >= MIN_DELIVERED_AFTER_FORGED;
  if (!flowed) {
    const delivered = `${path.serverDataDeliveredAfterForged} server data segments delivered after it (${MIN_DELIVERED_AFTER_FORGED} needed)`;
    const seen = `${echoes}, ${server.bytesEchoedAfterForge ?? 0} bytes echoed and ${delivered}`;
    return verdict('INCONCLUSIVE', `no RST, but no proof the connection carried data after the forged segment (${seen})`, [
      'client',
      'server.bytesEchoedAfterForge',
      'clientHostPath.serverDataDeliveredAfterForged',
    ]);
  }
  return verdict(
    'NOT_REPRODUCED',
    `the connection survived: ${forgedFate(path)}; no RST, ${server.bytesEchoedAfterForge} bytes echoed after it and ` +
      `${path.serverDataDeliveredAfterForged} server data segments delivered (${echoes}, ${invalid})`,
    ['rstAtServer', 'client', 'server.bytesEchoedAfterForge', 'clientHostPath', 'conntrack.invalidDelta'],
  );
}
