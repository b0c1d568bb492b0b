/**
 * docker-1090: what the captures on the client host say happened to the forged segment and to the
 * segments after it. Pure functions of the segments tcpdump read back, so recorded pcaps test them.
 */
import { hasPayload, type TcpSegment } from '../pcap.js';

export interface ForgedSegment {
  seq: number;
  /** What the client had acknowledged when the segment was forged. */
  baseSeq: number;
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

export interface ClientHostPath {
  forgedSeenOnUplink: boolean;
  /** null when the client is on the host itself (nothing to forward). */
  forgedForwardedToContainer: boolean | null;
  /** The client's first segment after the forged one reached it, and whether it was a duplicate ACK of what it had acknowledged. */
  clientAnswerToForged: { line: string; duplicateAck: boolean; dsackOfForged: boolean } | null;
  serverDataSegmentsOnUplink: number;
  serverDataSegmentsNotForwardedToContainer: string[] | null;
  /**
   * The server data segment held back most often: sent, then retransmitted at the server's retransmission timeout
   * (200 ms minimum, doubling), and never forwarded. How many times and over how long says how sure a stall is.
   * Absent in runs recorded before it was reported.
   */
  mostRetriedHeldSegment?: { times: number; overMs: number } | null;
  /** Server data segments after the forged one that reached the client: the connection carried traffic. */
  serverDataDeliveredAfterForged: number;
  firstRstFromClientHost: string | null;
  rstAnsweredSegment: { line: string; isForgedSegment: boolean; forwardedToContainer: boolean | null } | null;
}

const same = (a: TcpSegment, b: TcpSegment) => a.seq === b.seq && a.end === b.end && a.flags === b.flags;

export function clientHostPath(input: PathInput): ClientHostPath {
  const { forged, serverEnd, uplink, inner, natBetween } = input;
  const fromServer = (s: TcpSegment) => s.src === serverEnd;
  const isForged = (s: TcpSegment) => fromServer(s) && s.seq === forged.seq;
  const dataAtUplink = uplink.filter((s) => fromServer(s) && hasPayload(s));
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
  const firstRst = uplink.find((s) => !fromServer(s) && s.flags.includes('R'));
  const trigger = firstRst ? uplink.filter((s) => fromServer(s) && s.t <= firstRst.t).at(-1) : undefined;
  return {
    forgedSeenOnUplink: forgedAtUplink >= 0,
    forgedForwardedToContainer: natBetween ? forgedInner >= 0 : null,
    clientAnswerToForged: answer ? describeAnswer(answer, ackBefore, forged) : null,
    serverDataSegmentsOnUplink: dataAtUplink.length,
    serverDataSegmentsNotForwardedToContainer: natBetween ? dataAtUplink.filter((s) => !reachedClient(s)).map((s) => s.line) : null,
    mostRetriedHeldSegment: natBetween ? mostRetried(dataAtUplink.filter((s) => !reachedClient(s))) : null,
    serverDataDeliveredAfterForged: afterForged.filter((s) => fromServer(s) && hasPayload(s) && !isForged(s)).length,
    firstRstFromClientHost: firstRst?.line ?? null,
    rstAnsweredSegment: trigger
      ? { line: trigger.line, isForgedSegment: isForged(trigger), forwardedToContainer: natBetween ? reachedClient(trigger) : null }
      : null,
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

/** RSTs from the client's end that reached the server after the forged segment left it. */
export function rstsAtServerAfterForged(atServer: TcpSegment[], forged: ForgedSegment, serverEnd: string): TcpSegment[] {
  const sentAt = atServer.findIndex((s) => s.src === serverEnd && s.seq === forged.seq);
  if (sentAt < 0) return [];
  return atServer.slice(sentAt + 1).filter((s) => s.src !== serverEnd && s.flags.includes('R'));
}
