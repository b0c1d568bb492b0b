/**
 * moby-15127 (udp-reply-source): every recorded variant, perturbed. In the UDP modes the verdict rests on the client and
 * on docker0's capture, read again here with the file emptied, missing or foreign; in the tcp mode it rests on the client
 * alone (the run reads no reply from the capture), so capture perturbations do not apply there.
 */
import fs from 'node:fs';
import { udpReplySourceScenario, type ReplyEvidence } from '../../../src/run/scenarios/udp-reply-source.js';
import { CaptureReader } from '../../../src/run/pcap.js';
import { recorded, recordedDir, recordedFile } from '../recorded.js';
import type { Base, Perturbation, Subject } from './harness.js';
import { emptyPcap, foreignPcap, missingPcap } from './faults.js';

const LAB = 'moby-15127';
const PORT = 56789;
const CAPTURE = 'host-docker0';
const variants = fs.readdirSync(recordedDir(LAB, '')).filter((v) => fs.existsSync(recordedFile(LAB, v, 'evidence.json')));

const bases: Array<Base<ReplyEvidence>> = variants.map((variant) => {
  const r = recorded<ReplyEvidence>(LAB, variant);
  return { variant, evidence: r.evidence, stored: r.verdict };
});

const paramsOf = (e: ReplyEvidence) => udpReplySourceScenario.params.parse({ server: 'host', client: 'app', mode: e.mode });
const udp = (b: Base<ReplyEvidence>) => b.evidence.mode !== 'tcp';
const clientOf = (e: ReplyEvidence) => {
  if (!e.client) throw new Error('internal: recorded client summary parses');
  return e.client;
};

/** udp-reply-source's run() from its capture on: replies to the client on docker0, their sources, the client's ICMP errors. */
async function reanalyse(b: Base<ReplyEvidence>, file = recordedFile(LAB, b.variant, `pcap/${CAPTURE}.pcap`)): Promise<ReplyEvidence> {
  const e = b.evidence;
  const clientAddr = (clientOf(e) as { local?: string }).local!.split(':')[0]!;
  const reader = new CaptureReader();
  const replies = udp(b) ? await reader.lines(file, `udp and src port ${PORT} and dst host ${clientAddr}`) : [];
  const replySources = [...new Set(replies.map((l) => / IP (\d+\.\d+\.\d+\.\d+)\.\d+ > /.exec(l)?.[1]).filter((s): s is string => Boolean(s)))];
  const unreachable = await reader.lines(file, `icmp and src host ${clientAddr} and icmp[icmptype] == icmp-unreach`);
  return {
    ...e,
    captureProblems: reader.problems,
    onBridge: {
      replies: replies.length,
      replySources,
      wrongSourceReplies: replies.filter((l) => !l.includes(` IP ${e.target}.`)).length,
      icmpPortUnreachableFromClient: unreachable.length,
      samples: [...replies.slice(0, 3), ...unreachable.slice(0, 3)],
    },
    pcaps: file === recordedPcap(b) ? e.pcaps : e.pcaps.map((p) => ({ ...p, captured: 0 })),
  };
}

const recordedPcap = (b: Base<ReplyEvidence>) => recordedFile(LAB, b.variant, `pcap/${CAPTURE}.pcap`);

const captures: Array<Perturbation<ReplyEvidence>> = [
  { kind: 'capture-empty', name: `${CAPTURE}.pcap emptied`, applies: udp, apply: (b, s) => reanalyse(b, emptyPcap(recordedPcap(b), s.dir)) },
  { kind: 'capture-dropped', name: `${CAPTURE}.pcap missing`, applies: udp, apply: (b, s) => reanalyse(b, missingPcap(s.dir, `${CAPTURE}.pcap`)) },
  { kind: 'capture-dropped', name: `${CAPTURE}.pcap not a pcap`, applies: udp, apply: (b, s) => reanalyse(b, foreignPcap(s.dir, `${CAPTURE}.pcap`)) },
];

const withClient = (e: ReplyEvidence, change: Partial<NonNullable<ReplyEvidence['client']>>): ReplyEvidence => ({
  ...e,
  client: { ...clientOf(e), ...change },
});

const stories: Array<Perturbation<ReplyEvidence>> = [
  {
    kind: 'agent-capture-disagree',
    name: 'the client got every reply, the capture shows them from the wrong source, answered with ICMP port unreachable',
    applies: (b) => udp(b) && b.evidence.onBridge.wrongSourceReplies > 0,
    apply: (b) => withClient(b.evidence, { received: clientOf(b.evidence).sent, replySources: b.evidence.onBridge.replySources }),
  },
  {
    kind: 'agent-capture-disagree',
    name: 'the client got no reply, the capture shows every reply from the right source and no ICMP error',
    applies: (b) => udp(b) && b.evidence.onBridge.wrongSourceReplies === 0 && b.evidence.onBridge.replies > 0,
    apply: (b) => withClient(b.evidence, { received: 0, replySources: [] }),
  },
  {
    kind: 'failure-without-mechanism',
    name: 'over TCP the client got no reply',
    applies: (b) => !udp(b),
    apply: (b) => withClient(b.evidence, { received: 0, replySources: [] }),
  },
  {
    kind: 'agents-disagree',
    name: 'the client received more replies than it sent',
    applies: () => true,
    apply: (b) => withClient(b.evidence, { received: clientOf(b.evidence).sent * 2 }),
  },
];

const crashes: Array<Perturbation<ReplyEvidence>> = [
  {
    kind: 'agent-crashed',
    name: 'the client agent crashed (no summary)',
    applies: () => true,
    apply: (b) => ({ ...b.evidence, client: null, clientProblem: 'the client agent produced no summary' }),
  },
  {
    kind: 'summary-unparsable',
    name: 'the client summary does not parse (received: "five")',
    applies: () => true,
    apply: (b) => ({
      ...b.evidence,
      client: null,
      clientProblem: "the client agent's summary does not parse: field received: Invalid input: expected number, received string",
    }),
  },
  {
    // The verdict rests on the client and the capture: the server's summary is kept as a record only.
    kind: 'side-evidence-failed',
    name: 'the server agent crashed (no summary)',
    applies: () => true,
    apply: (b) => ({ ...b.evidence, server: null }),
  },
];

export const moby15127: Subject<ReplyEvidence> = {
  lab: LAB,
  bases,
  judge: (e) => udpReplySourceScenario.judge(e, paramsOf(e)),
  perturbations: [...captures, ...stories, ...crashes],
  rederive: (b) => reanalyse(b),
  knownDefects: {},
};
