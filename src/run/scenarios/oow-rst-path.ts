/**
 * docker-1090: what the captures say happened to the forged segment and to the segments after it.
 * Every link between packets is made by sequence and acknowledgement numbers, never by time alone:
 * a host stack's RST to a segment that carries an ACK takes its sequence number from that ACK
 * (RFC 793, "Reset Generation"), and a RST resets a connection only when its sequence number is the
 * next one the receiver expects (RFC 5961 section 3.2). Pure functions of the segments tcpdump read
 * back, so recorded pcaps test them.
 */
import { hasPayload, type TcpSegment } from '../pcap.js';

export interface ForgedSegment {
  seq: number;
  /** What the client had acknowledged when the segment was forged. */
  baseSeq: number;
  /** The forged segment's own ack (absent in runs recorded before it was reported). */
  ack?: number;
}

export interface PathInput {
  forged: ForgedSegment;
  /** "10.10.2.2.9000", as tcpdump prints the server's end. */
  serverEnd: string;
  /** Segments of the connection on the client host's uplink (NATed addresses). */
  uplink: TcpSegment[];
  /** Segments of the connection where the client itself receives them: docker0 for a container, else the uplink. */
  inner: TcpSegment[];
  /** The inner capture is a different link than the uplink (there is a NAT between them). */
  natBetween: boolean;
}

/** A RST the client host's own stack sent, and the server segment it answered (the one whose ack is the RST's seq). */
export interface HostRst {
  line: string;
  seq: number;
  answered: { line: string; isForgedSegment: boolean; forwardedToContainer: boolean | null } | null;
}

export interface ClientHostPath {
  forgedSeenOnUplink: boolean;
  /** null when the client is on the host itself (nothing to forward). */
  forgedForwardedToContainer: boolean | null;
  /** The client's first segment after the forged one reached it, and whether it was a duplicate ACK of what it had acknowledged. */
  clientAnswerToForged: { line: string; duplicateAck: boolean; dsackOfForged: boolean } | null;
  serverDataSegmentsOnUplink: number;
  /** The server's real data segments (not the forged one) seen on the uplink that never reached the container. */
  serverDataSegmentsNotForwardedToContainer: string[] | null;
  /**
   * The server data segment held back most often: sent, then retransmitted at the server's retransmission timeout
   * (200 ms minimum, doubling), and never forwarded. How many times and over how long says how sure a stall is.
   */
  mostRetriedHeldSegment?: { times: number; overMs: number } | null;
  /** Server data segments after the forged one that reached the client: the connection carried traffic. */
  serverDataDeliveredAfterForged: number;
  /** RSTs the client host's own stack sent: on the uplink from the client's end, and not forwarded from the container. */
  hostRsts?: HostRst[];
  firstRstFromClientHost: string | null;
  rstAnsweredSegment: HostRst['answered'];
  /** RSTs from the server's end that reached the client (the inner capture): what resets the application's socket. */
  rstsToClient?: string[];
  /**
   * A real server segment (data or a pure ACK), not below what the client had acknowledged when the forge left, that reached the client
   * host after the forged segment had been forwarded to the container and was itself not forwarded: the evidence
   * that conntrack accepted the forged segment and then judged a legitimate one INVALID.
   */
  laterRealSegmentNotForwarded?: string | null;
}

const MOD = 2 ** 32;
/** a comes after b in sequence space (RFC 793 arithmetic modulo 2^32). */
export const seqAfter = (a: number, b: number) => a !== b && (a - b + MOD) % MOD < 2 ** 31;
/** The same segment on both sides of the NAT (MASQUERADE rewrites neither seq nor ack); tcpdump prints no seq for a pure ACK, so the ack counts too. */
const same = (a: TcpSegment, b: TcpSegment) => a.seq === b.seq && a.end === b.end && a.ack === b.ack && a.flags === b.flags;
const isRst = (s: TcpSegment) => s.flags.includes('R');

export function clientHostPath(input: PathInput): ClientHostPath {
  const { forged, serverEnd, uplink, inner, natBetween } = input;
  const fromServer = (s: TcpSegment) => s.src === serverEnd;
  const isForged = (s: TcpSegment) => fromServer(s) && s.seq === forged.seq;
  const dataAtUplink = uplink.filter((s) => fromServer(s) && hasPayload(s));
  const realDataAtUplink = dataAtUplink.filter((s) => !isForged(s));
  const reachedClient = (s: TcpSegment) => inner.some((i) => fromServer(i) && same(i, s));
  const forgedInner = inner.findIndex(isForged);
  const answer = forgedInner >= 0 ? inner.slice(forgedInner + 1).find((s) => !fromServer(s)) : undefined;
  const ackBefore =
    forgedInner >= 0
      ? inner
          .slice(0, forgedInner)
          .filter((s) => !fromServer(s) && s.ack !== null)
          .at(-1)?.ack
      : undefined;
  const forgedAtUplink = uplink.findIndex(isForged);
  const afterForged = forgedInner >= 0 ? inner.slice(forgedInner + 1) : forgedAtUplink >= 0 ? inner.filter((s) => s.t > uplink[forgedAtUplink]!.t) : [];
  const containerRstSeqs = natBetween ? new Set(inner.filter((s) => !fromServer(s) && isRst(s)).map((s) => s.seq)) : new Set<number | null>();
  const hostRsts: HostRst[] = uplink
    .map((s, i) => ({ s, i }))
    .filter(({ s }) => !fromServer(s) && isRst(s) && s.seq !== null && !containerRstSeqs.has(s.seq))
    .map(({ s, i }) => {
      // The segment it answered: the latest server segment before it whose ack is its seq, and that the host (not the container) received.
      const answered = uplink
        .slice(0, i)
        .filter((u) => fromServer(u) && u.ack === s.seq && !(natBetween && reachedClient(u)))
        .at(-1);
      return {
        line: s.line,
        seq: s.seq!,
        answered: answered
          ? { line: answered.line, isForgedSegment: isForged(answered), forwardedToContainer: natBetween ? reachedClient(answered) : null }
          : null,
      };
    });
  const forgedForwarded = natBetween ? forgedInner >= 0 : null;
  const laterReal =
    forgedForwarded && forgedAtUplink >= 0
      ? uplink
          .slice(forgedAtUplink + 1)
          .find((s) => fromServer(s) && !isForged(s) && !isRst(s) && !(s.seq !== null && seqAfter(forged.baseSeq, s.seq)) && !reachedClient(s))
      : undefined;
  return {
    forgedSeenOnUplink: forgedAtUplink >= 0,
    forgedForwardedToContainer: forgedForwarded,
    clientAnswerToForged: answer ? describeAnswer(answer, ackBefore, forged) : null,
    serverDataSegmentsOnUplink: dataAtUplink.length,
    serverDataSegmentsNotForwardedToContainer: natBetween ? realDataAtUplink.filter((s) => !reachedClient(s)).map((s) => s.line) : null,
    mostRetriedHeldSegment: natBetween ? mostRetried(realDataAtUplink.filter((s) => !reachedClient(s))) : null,
    serverDataDeliveredAfterForged: afterForged.filter((s) => fromServer(s) && hasPayload(s) && !isForged(s)).length,
    hostRsts: hostRsts.slice(0, 5),
    firstRstFromClientHost: hostRsts[0]?.line ?? null,
    rstAnsweredSegment: hostRsts[0]?.answered ?? null,
    rstsToClient: inner
      .filter((s) => fromServer(s) && isRst(s))
      .slice(0, 5)
      .map((s) => s.line),
    laterRealSegmentNotForwarded: laterReal?.line ?? null,
  };
}

function mostRetried(held: TcpSegment[]): { times: number; overMs: number } | null {
  const bySeq = new Map<string, TcpSegment[]>();
  for (const s of held) bySeq.set(`${s.seq}:${s.end}`, [...(bySeq.get(`${s.seq}:${s.end}`) ?? []), s]);
  const most = [...bySeq.values()].sort((a, b) => b.length - a.length)[0];
  return most ? { times: most.length, overMs: Math.round((most.at(-1)!.t - most[0]!.t) * 1000) } : null;
}

/** A duplicate ACK repeats the client's last ack without data; a D-SACK block (RFC 2883) names the forged bytes as already received. */
function describeAnswer(answer: TcpSegment, ackBefore: number | null | undefined, forged: ForgedSegment) {
  const dsack = new RegExp(`sack \\d+ \\{${forged.seq}:\\d+`).test(answer.line);
  return { line: answer.line, duplicateAck: !hasPayload(answer) && answer.ack !== null && answer.ack === ackBefore, dsackOfForged: dsack };
}

/** A RST from the client's end as the server received it, and what the server's TCP makes of it. */
export interface RstAtServer {
  line: string;
  seq: number;
  /** The next sequence number the server expected from the client when the RST arrived (its capture: the end of the client's data so far). */
  serverExpected: number | null;
  /** RFC 5961: exactly the next expected number resets; inside the window draws a challenge ACK; outside it is dropped. */
  fate: 'accepted' | 'below-window' | 'not-exact' | 'unknown';
}

/** RSTs from the client's end that reached the server after the forged segment left it, with the server's next expected sequence number. */
export function rstsAtServerAfterForged(atServer: TcpSegment[], forged: ForgedSegment, serverEnd: string): RstAtServer[] {
  const sentAt = atServer.findIndex((s) => s.src === serverEnd && s.seq === forged.seq);
  if (sentAt < 0) return [];
  return atServer.flatMap((s, i) => {
    if (i <= sentAt || s.src === serverEnd || !isRst(s) || s.seq === null) return [];
    const expected = nextExpected(atServer.slice(0, i).filter((c) => c.src !== serverEnd && !isRst(c)));
    const fate = expected === null ? 'unknown' : s.seq === expected ? 'accepted' : seqAfter(expected, s.seq) ? 'below-window' : 'not-exact';
    return [{ line: s.line, seq: s.seq, serverExpected: expected, fate }];
  });
}

/** The receiver's next expected sequence number: past the furthest SYN, data or FIN it received. */
function nextExpected(fromClient: TcpSegment[]): number | null {
  let next: number | null = null;
  for (const s of fromClient) {
    if (s.seq === null || s.end === null) continue;
    const end = (s.end + (s.flags.includes('S') || s.flags.includes('F') ? 1 : 0)) % MOD;
    if (next === null || seqAfter(end, next)) next = end;
  }
  return next;
}
