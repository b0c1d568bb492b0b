/**
 * docker-1090: the evidence a run of oow-rst collects, its agents' summaries, and the verdict that follows from it.
 * Outcome first: the verdict follows what the application saw (reset, stall, or every echo back); the mechanism (a
 * RST from the client host's own stack, segments held back) explains it and never decides it alone. Every clause of a
 * reason is built from a field of the evidence that shows it.
 */
import * as z from 'zod';
import { verdict, type InconclusiveKind, type MechanismFacet, type OutcomeFacet, type Verdict } from '../verdict.js';
import type { Parsed } from '../summary.js';
import type { ClientHostPath, HostRst, RstAtServer } from './oow-rst-path.js';

export const serverSummarySchema = z.object({
  established: z.boolean(),
  peer: z.string().nullable(),
  local: z.string().nullable(),
  forged: z
    .object({
      seq: z.number().int(),
      baseSeq: z.number().int(),
      offset: z.number().int(),
      placement: z.enum(['ahead', 'behind']),
      length: z.number().int(),
      ack: z.number().int().optional(),
      when: z.enum(['idle', 'in-flight']).optional(),
      /** The client's next sequence number as the server had received it when it forged. */
      receivedNext: z.number().int().nullable().optional(),
      /** Idle forge: the client had acknowledged every echo and every line had arrived (null: in flight). */
      ackCurrent: z.boolean().nullable().optional(),
    })
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
  trigger: { placement: 'ahead' | 'behind'; offset: number; bytes: number; when?: 'idle' | 'in-flight' };
  /** The waits this run used (the lab's, scaled by the nodes' slowdown). */
  waits?: Record<string, number>;
  server: Parsed<ServerSummary>;
  client: Parsed<ClientSummary>;
  /** Problems reading the captures; any one makes the run INCONCLUSIVE. */
  captureProblems: string[];
  rstAtServer: { fromAgent: number | null; fromPcap: number | null; firstMsAfterForge: number | null; packets: string[]; atServer?: RstAtServer[] };
  clientHostPath: ClientHostPath | null;
  conntrack: { node: string; invalidBefore: number | null; invalidAfter: number | null; invalidDelta: number | null };
  pcaps: Array<{ file: string; captured: number | null; droppedByKernel: number | null }>;
  agentLogs: string[];
}

export const DEFAULT_FAILURE = "the container's connection is reset or stalls";

export const MECHANISM =
  "a server segment conntrack marks INVALID skips the de-NAT: the client host's own stack answers it with a RST, or a rule holds it back";

/**
 * Server data segments that must reach the client after the forged one before "the connection survived" holds. Every
 * failure seen shows on the first server segment after the forged one (the RST answers it, or it is dropped); a second
 * one shows the first was not a lone survivor. A run that ends sooner is INCONCLUSIVE, however short its waits.
 */
export const MIN_DELIVERED_AFTER_FORGED = 2;

/** "segment 5:12" for data, "pure ACK (ack 9)" for a segment without data, as tcpdump printed it. */
const segment = (line: string) => {
  const data = /seq (\d+:\d+)/.exec(line)?.[1];
  return data ? `segment ${data}` : `pure ACK (ack ${/ack (\d+)/.exec(line)?.[1] ?? '?'})`;
};

function forgedFate(path: ClientHostPath): string {
  if (path.forgedForwardedToContainer === false) return 'the forged segment never reached the container';
  const where = path.forgedForwardedToContainer ? 'was de-NATed and reached the container' : 'reached the client';
  const a = path.clientAnswerToForged;
  if (!a) return `the forged segment ${where}, which did not answer it`;
  const kind = a.duplicateAck ? 'a duplicate ACK' : a.line.includes('Flags [R') ? 'a RST' : 'an ACK';
  return `the forged segment ${where}, which answered with ${kind}${a.dsackOfForged ? ' with a D-SACK of the forged bytes' : ''}`;
}

/** The forged segment passed conntrack, and a later legitimate one did not: shown, not assumed. */
function windowMoved(path: ClientHostPath, invalidDelta: number | null): boolean {
  return path.forgedForwardedToContainer === true && Boolean(path.laterRealSegmentNotForwarded) && (invalidDelta ?? 0) > 0;
}

function movedWindow(path: ClientHostPath): string {
  return (
    `${forgedFate(path)}; the server's real ${segment(path.laterRealSegmentNotForwarded!)} after it did not reach the container: ` +
    'conntrack accepted the forged segment, moved its window and judged the real one INVALID'
  );
}

/** What the client host's RST answered, matched by its sequence number to the answered segment's ack. */
function rstAnswered(rst: HostRst, path: ClientHostPath, invalidDelta: number | null): string {
  const a = rst.answered;
  if (!a) return `the client host's own stack sent a RST (seq ${rst.seq}) that answers no server segment it received (none carries ack ${rst.seq})`;
  if (a.isForgedSegment) {
    const answeredIt = `the client host's own stack answered it with a RST (seq ${rst.seq}, the forged segment's ack)`;
    // INVALID is shown by the missing de-NAT: the segment reached the host, not the container.
    if (a.forwardedToContainer === false) return `the forged segment was INVALID: it never reached the container (no de-NAT), and ${answeredIt}`;
    return `the forged segment reached the client host: ${answeredIt}`;
  }
  const real = `the client host's own stack answered the server's real ${segment(a.line)} with a RST (seq ${rst.seq}, that segment's ack)`;
  const notForwarded = a.forwardedToContainer === false ? ', a segment that never reached the container' : '';
  return windowMoved(path, invalidDelta) ? `${movedWindow(path)}; ${real}${notForwarded}` : `${real}${notForwarded}`;
}

/** What the server's TCP made of that RST (RFC 5961 section 3.2), from the server's capture. */
function serverTook(rst: HostRst, atServer: RstAtServer[] | undefined): { text: string; fate: RstAtServer['fate'] | 'absent' } {
  const there = atServer?.find((r) => r.seq === rst.seq);
  if (!there) return { text: 'the server-link capture does not show it arriving', fate: 'absent' };
  const expected = there.serverExpected;
  switch (there.fate) {
    case 'accepted':
      return { text: `the server accepted it: ${rst.seq} was the next sequence number it expected`, fate: there.fate };
    case 'below-window':
      return {
        text: `its sequence number ${rst.seq} was below ${expected}, the next one the server expected: outside the server's window, so the server ignored it`,
        fate: there.fate,
      };
    case 'not-exact':
      return {
        text: `its sequence number ${rst.seq} was not ${expected}, the next one the server expected, so the server did not reset (RFC 5961)`,
        fate: there.fate,
      };
    default:
      return { text: 'the server-link capture does not show what the server expected', fate: there.fate };
  }
}

interface Read {
  facet: OutcomeFacet;
  kind?: InconclusiveKind;
  decidedBy: string[];
}

function outcomeOf(e: OowEvidence, server: ServerSummary, client: ClientSummary, path: ClientHostPath, failure: string): Read {
  const echoes = `client ${client.echoed}/${client.sent} echoes`;
  const serverReset = server.connectionEnd === 'reset';
  const toClient = path.rstsToClient ?? [];
  const at = path.forgedForwardedToContainer === null ? 'the client' : 'the container';
  const facet = (seen: boolean | null, detail: string) => ({ failure, seen, detail });
  if (client.outcome === 'reset') {
    const shown = [
      ...(toClient.length > 0 ? [`a RST from the server's end reached ${at}`] : []),
      ...(serverReset ? ["the server's own socket was reset"] : []),
    ];
    if (shown.length === 0) {
      const detail = `the client reports a reset (${client.error ?? 'no error'}) but no RST reached ${at} in the capture and the server's socket was not reset`;
      return { facet: facet(null, detail), kind: 'evidence-conflict', decidedBy: ['client.outcome', 'clientHostPath.rstsToClient', 'server.connectionEnd'] };
    }
    const detail = `the connection was reset: the client got ${client.error ?? 'a reset'} (${echoes}); ${shown.join(' and ')}`;
    return { facet: facet(true, detail), decidedBy: ['client.outcome', 'clientHostPath.rstsToClient', 'server.connectionEnd'] };
  }
  if (client.outcome === 'timeout') {
    const held = path.serverDataSegmentsNotForwardedToContainer;
    const decidedBy = ['client.outcome', 'clientHostPath.serverDataSegmentsNotForwardedToContainer', 'server.connectionEnd'];
    if (held && held.length > 0) {
      const retried = path.mostRetriedHeldSegment;
      const resent = retried && retried.times > 1 ? ` (one of them sent ${retried.times} times over ${retried.overMs} ms: the server's retransmissions)` : '';
      const detail = `stall, not reset: the client timed out (${echoes}) while ${held.length} server segment(s) never reached the container${resent}`;
      return { facet: facet(true, detail), decidedBy };
    }
    if (serverReset) return { facet: facet(true, `stall, not reset: the client timed out (${echoes}) after the server's socket had been reset`), decidedBy };
    // Every server segment reached the container: it was slow (a stall threshold too short for this machine), not held.
    const detail = `the client timed out (${echoes}), but every server data segment on the client host's uplink reached the container: slow, not stalled`;
    return { facet: facet(null, detail), kind: held ? 'evidence-conflict' : 'evidence-missing', decidedBy };
  }
  if (client.outcome !== 'intact') {
    const detail = `the client's connection ended as "${client.outcome ?? 'unknown'}" (${client.error ?? 'no error'})`;
    return { facet: facet(null, detail), kind: client.outcome === 'error' ? 'error' : 'evidence-missing', decidedBy: ['client.outcome'] };
  }
  const decidedBy = ['client', 'server.bytesEchoedAfterForge', 'clientHostPath.serverDataDeliveredAfterForged'];
  const delivered = path.serverDataDeliveredAfterForged;
  const flowed = client.echoed === client.sent && (server.bytesEchoedAfterForge ?? 0) > 0 && delivered >= MIN_DELIVERED_AFTER_FORGED;
  if (!flowed) {
    const seen = `${echoes}, ${server.bytesEchoedAfterForge ?? 0} bytes echoed and ${delivered} server data segments delivered after it (${MIN_DELIVERED_AFTER_FORGED} needed)`;
    return { facet: facet(null, `no proof the connection carried data after the forged segment (${seen})`), kind: 'evidence-missing', decidedBy };
  }
  const detail = `the connection survived: every echo came back (${echoes}), ${server.bytesEchoedAfterForge} bytes echoed after the forged segment and ${delivered} server data segments delivered after it`;
  return { facet: facet(false, detail), decidedBy };
}

interface Mechanism {
  facet: MechanismFacet;
  invalid: string;
  rst: HostRst | null;
  fate: RstAtServer['fate'] | 'absent' | null;
}

function mechanismOf(e: OowEvidence, path: ClientHostPath): Mechanism {
  const delta = e.conntrack.invalidDelta;
  const invalid = delta === null ? 'conntrack invalid counter unavailable' : `conntrack invalid +${delta} on the client host`;
  const rst = path.hostRsts?.[0] ?? null;
  if (rst) {
    const took = serverTook(rst, e.rstAtServer.atServer);
    return { facet: { name: MECHANISM, seen: true, detail: `${rstAnswered(rst, path, delta)}; ${took.text} (${invalid})` }, invalid, rst, fate: took.fate };
  }
  const held = path.serverDataSegmentsNotForwardedToContainer ?? [];
  if (held.length > 0) {
    const how = windowMoved(path, delta) ? movedWindow(path) : forgedFate(path);
    const detail = `${held.length} real server segment(s) were held back on the client host, neither de-NATed nor answered by its stack; ${how} (${invalid})`;
    return { facet: { name: MECHANISM, seen: true, detail }, invalid, rst: null, fate: null };
  }
  if (path.forgedForwardedToContainer === null) {
    const detail = `no NAT on the path: ${forgedFate(path)}; no RST from the client host (${invalid})`;
    return { facet: { name: MECHANISM, seen: false, detail }, invalid, rst: null, fate: null };
  }
  const detail = `no RST from the client host's own stack and every real server data segment reached the container; ${forgedFate(path)} (${invalid})`;
  return { facet: { name: MECHANISM, seen: false, detail }, invalid, rst: null, fate: null };
}

type Checked = { verdict: Verdict } | { server: ServerSummary; client: ClientSummary; path: ClientHostPath };

/** The checks before any judging: both agents reported, the captures read, the forged segment seen, agent and capture agree. */
function integrity(e: OowEvidence): Checked {
  const v = integrityVerdict(e);
  if (v) return { verdict: v };
  return { server: (e.server as { value: ServerSummary }).value, client: (e.client as { value: ClientSummary }).value, path: e.clientHostPath! };
}

function integrityVerdict(e: OowEvidence): Verdict | undefined {
  if (!e.server.ok) return verdict('INCONCLUSIVE', e.server.problem, ['server']);
  if (!e.client.ok) return verdict('INCONCLUSIVE', e.client.problem, ['client']);
  if (e.captureProblems.length > 0) return verdict('INCONCLUSIVE', e.captureProblems.join('; '), ['captureProblems']);
  const server = e.server.value;
  const path = e.clientHostPath;
  if (!server.established) return verdict('INCONCLUSIVE', 'the client never established its connection to the server', ['server.established']);
  if (!server.forged || !path) return verdict('INCONCLUSIVE', 'the connection ended before the segment could be forged', ['server.forged']);
  if (!path.forgedSeenOnUplink) {
    return verdict('INCONCLUSIVE', 'the forged segment was not seen arriving on the client host, so nothing was tested', ['clientHostPath.forgedSeenOnUplink']);
  }
  const rst = e.rstAtServer;
  if ((rst.fromAgent ?? 0) > 0 !== (rst.fromPcap ?? 0) > 0) {
    const counts = `the server agent counted ${rst.fromAgent} RST(s) after the forged segment but the server-link capture shows ${rst.fromPcap}`;
    return verdict('INCONCLUSIVE', counts, ['rstAtServer'], 'evidence-conflict');
  }
  return undefined;
}

/** The run's integrity checked, then what the application saw and what the mechanism did: what both judges start from. */
function assess(e: OowEvidence, failure: string) {
  const checked = integrity(e);
  if ('verdict' in checked) return checked;
  const { server, client, path } = checked;
  const outcome = outcomeOf(e, server, client, path, failure);
  const mechanism = mechanismOf(e, path);
  const facets = { outcome: outcome.facet, mechanism: mechanism.facet };
  const decidedBy = [...outcome.decidedBy, 'clientHostPath', 'rstAtServer', 'conntrack.invalidDelta'];
  return { client, path, outcome, mechanism, facets, decidedBy };
}

export function judgeOow(e: OowEvidence, failure: string = DEFAULT_FAILURE): Verdict {
  const assessed = assess(e, failure);
  if ('verdict' in assessed) return assessed.verdict;
  const { path, outcome, mechanism, facets, decidedBy } = assessed;
  if (outcome.facet.seen === true) {
    const how = mechanism.facet.seen ? mechanism.facet.detail : `the report's mechanism was not seen: ${mechanism.facet.detail}`;
    return { ...verdict('REPRODUCED', `${outcome.facet.detail}; ${how}`, decidedBy), ...facets };
  }
  if (outcome.facet.seen === null) {
    return { ...verdict('INCONCLUSIVE', `${outcome.facet.detail}; ${mechanism.facet.detail}`, decidedBy, outcome.kind), ...facets };
  }
  if (mechanism.rst && mechanism.fate === 'accepted') {
    const why = `the server accepted the client host's RST, yet ${outcome.facet.detail}: the evidence contradicts itself (${mechanism.facet.detail})`;
    return { ...verdict('INCONCLUSIVE', why, decidedBy, 'evidence-conflict'), ...facets };
  }
  if (mechanism.rst) {
    const took = serverTook(mechanism.rst, e.rstAtServer.atServer).text;
    const answered = rstAnswered(mechanism.rst, path, e.conntrack.invalidDelta);
    const why = `the client host emitted a RST, but ${took}; ${outcome.facet.detail} (${answered}; ${mechanism.invalid})`;
    return { ...verdict('NOT_REPRODUCED', why, decidedBy), ...facets };
  }
  if (mechanism.facet.seen) {
    return { ...verdict('NOT_REPRODUCED', `${outcome.facet.detail}, although ${mechanism.facet.detail}`, decidedBy), ...facets };
  }
  return { ...verdict('NOT_REPRODUCED', `${outcome.facet.detail}; ${mechanism.facet.detail}`, decidedBy), ...facets };
}

/**
 * What must hold before a lab file's verdict rules judge a run (run/declarative/coded.ts): the integrity checks above,
 * and an application outcome the captures corroborate. A reset the client reports must show as a RST in the capture
 * or a reset server socket; a time-out as server segments held back on the client host or a reset server socket (else
 * the connection was slow, not stalled); an outcome other than intact, reset or timeout decides nothing; a RST the
 * server accepted on a connection that carried on contradicts itself. Each failing one is INCONCLUSIVE with its kind.
 * An intact connection without proof that data flowed after the forged segment is left to the rules (neither holds).
 */
export function oowPreconditions(e: OowEvidence, failure: string = DEFAULT_FAILURE): Verdict | undefined {
  const assessed = assess(e, failure);
  if ('verdict' in assessed) return assessed.verdict;
  const { client, outcome, mechanism, facets, decidedBy } = assessed;
  if (outcome.facet.seen === null && client.outcome !== 'intact') {
    return { ...verdict('INCONCLUSIVE', `${outcome.facet.detail}; ${mechanism.facet.detail}`, decidedBy, outcome.kind), ...facets };
  }
  if (outcome.facet.seen === false && mechanism.rst && mechanism.fate === 'accepted') {
    const why = `the server accepted the client host's RST, yet ${outcome.facet.detail}: the evidence contradicts itself (${mechanism.facet.detail})`;
    return { ...verdict('INCONCLUSIVE', why, decidedBy, 'evidence-conflict'), ...facets };
  }
  return undefined;
}

/** The numbers oow-rst's rules may compare, by name, with what each counts. */
export const OOW_MEASURES = {
  clientReset: "1 when the client's connection was reset (ECONNRESET), else 0",
  clientTimedOut: '1 when the client waited stallAfterS for an echo in vain, else 0',
  clientIntact: "1 when the client's connection ended intact, else 0",
  clientEchoesMissing: 'lines the client sent whose echo never came back',
  serverBytesEchoedAfterForge: 'bytes the server echoed after it forged the segment',
  serverDataDeliveredAfterForged: "the server's data segments that reached the container (or the client) after the forged one",
  serverSegmentsHeld: "real server data segments on the client host's uplink that never reached the container (0 without NAT)",
  hostRsts: "RSTs the client host's own stack sent (not forwarded from the container)",
  hostRstsTheServerAccepted: "the client host's RSTs whose sequence number was the next one the server expected",
  rstsAtServerAfterForge: "RSTs on the server's link after the forged segment, in the server's capture",
  conntrackInvalidDelta: "the change of conntrack's invalid counter on the client host during the run",
} as const;

export type OowMeasureName = keyof typeof OOW_MEASURES;
export interface NamedMeasure {
  value: number | null;
  missing?: string;
  label?: string;
}

export function oowMeasures(e: OowEvidence): Record<OowMeasureName, NamedMeasure> {
  const client = e.client.ok ? e.client.value : undefined;
  const server = e.server.ok ? e.server.value : undefined;
  const path = e.clientHostPath;
  // Used only when the summary is missing or does not parse: its problem is why the number is missing.
  const noClient = { value: null, missing: e.client.ok ? 'unused' : e.client.problem };
  const noServer = { value: null, missing: e.server.ok ? 'unused' : e.server.problem };
  const noPath = { value: null, missing: 'the captures show no path through the client host (the segment was not forged)' };
  const flag = (b: boolean) => ({ value: b ? 1 : 0 });
  const rsts = path?.hostRsts;
  const noRsts = { value: null, missing: "this run was recorded before the client host's RSTs were matched to segments" };
  return {
    clientReset: client ? flag(client.outcome === 'reset') : noClient,
    clientTimedOut: client ? flag(client.outcome === 'timeout') : noClient,
    clientIntact: client ? flag(client.outcome === 'intact') : noClient,
    clientEchoesMissing: client ? { value: client.sent - client.echoed } : noClient,
    serverBytesEchoedAfterForge: !server
      ? noServer
      : server.bytesEchoedAfterForge === null
        ? { value: null, missing: 'the server did not count the bytes it echoed after the forge' }
        : { value: server.bytesEchoedAfterForge },
    serverDataDeliveredAfterForged: path ? { value: path.serverDataDeliveredAfterForged } : noPath,
    serverSegmentsHeld: path ? { value: path.serverDataSegmentsNotForwardedToContainer?.length ?? 0 } : noPath,
    hostRsts: !path ? noPath : rsts ? { value: rsts.length } : noRsts,
    hostRstsTheServerAccepted: !path
      ? noPath
      : rsts
        ? { value: rsts.filter((r) => e.rstAtServer.atServer?.find((a) => a.seq === r.seq)?.fate === 'accepted').length }
        : noRsts,
    rstsAtServerAfterForge: e.rstAtServer.fromPcap === null ? { value: null, missing: "the server's capture was not read" } : { value: e.rstAtServer.fromPcap },
    conntrackInvalidDelta:
      e.conntrack.invalidDelta === null
        ? { value: null, missing: "conntrack's invalid counter on the client host was not read" }
        : { value: e.conntrack.invalidDelta },
  };
}

/** The coded judge's own words for each facet, kept as their detail when the rules agree with it (run/declarative/coded.ts). */
export function oowDetails(e: OowEvidence, failure: string = DEFAULT_FAILURE): { outcome?: OutcomeFacet; mechanism?: MechanismFacet } {
  const checked = integrity(e);
  if ('verdict' in checked) return {};
  return { outcome: outcomeOf(e, checked.server, checked.client, checked.path, failure).facet, mechanism: mechanismOf(e, checked.path).facet };
}
