/**
 * moby-15127 (udp-reply-source): every recorded variant, perturbed. The verdict rests on the client and on docker0's
 * capture (the replies toward the client and their sources, in every mode), read again here with the file emptied,
 * missing or foreign, through the scenario's own readBridge.
 */
import fs from 'node:fs';
import { readBridge, udpReplySourceScenario, type ReplyEvidence } from '../../../src/run/scenarios/udp-reply-source.js';
import { CaptureReader } from '../../../src/run/pcap.js';
import { recorded, recordedDir, recordedFile } from '../recorded.js';
import type { Base, Perturbation, Subject } from './harness.js';
import { emptyPcap, foreignPcap, missingPcap } from './faults.js';

const LAB = 'moby-15127';
const PORT = 56789;
const CAPTURE = 'host-docker0';
const variants = fs.readdirSync(recordedDir(LAB, '')).filter((v) => fs.existsSync(recordedFile(LAB, v, 'evidence.json')));

const recordings: Array<Base<ReplyEvidence>> = variants.map((variant) => {
  const r = recorded<ReplyEvidence>(LAB, variant);
  return { variant, evidence: r.evidence, stored: r.verdict };
});

const paramsOf = (e: ReplyEvidence) => udpReplySourceScenario.params.parse({ server: 'host', client: 'app', mode: e.mode });
const udp = (b: Base<ReplyEvidence>) => b.evidence.mode !== 'tcp';
const clientOf = (e: ReplyEvidence) => {
  if (!e.client) throw new Error('internal: recorded client summary parses');
  return e.client;
};

/** udp-reply-source's run() from its capture on (readBridge): replies toward the client on docker0, their sources, its ICMP errors. */
async function reanalyse(b: Base<ReplyEvidence>, file = recordedPcap(b)): Promise<ReplyEvidence> {
  const e = b.evidence;
  const client = (clientOf(e) as { local?: string }).local!.split(':')[0]!;
  const reader = new CaptureReader();
  const onBridge = await readBridge(reader, file, { proto: udp(b) ? 'udp' : 'tcp', port: PORT, client, target: e.target });
  return { ...e, captureProblems: reader.problems, onBridge, pcaps: file === recordedPcap(b) ? e.pcaps : e.pcaps.map((p) => ({ ...p, captured: 0 })) };
}

function recordedPcap(b: Base<ReplyEvidence>) {
  return recordedFile(LAB, b.variant, `pcap/${CAPTURE}.pcap`);
}

/** Every recording, its capture-derived fields computed again from its pcap as run() does today. */
const bases: Array<Base<ReplyEvidence>> = await Promise.all(recordings.map(async (b) => ({ ...b, evidence: await reanalyse(b), recorded: b.evidence })));

const captures: Array<Perturbation<ReplyEvidence>> = [
  { kind: 'capture-empty', name: `${CAPTURE}.pcap emptied`, applies: () => true, apply: (b, s) => reanalyse(b, emptyPcap(recordedPcap(b), s.dir)) },
  { kind: 'capture-dropped', name: `${CAPTURE}.pcap missing`, applies: () => true, apply: (b, s) => reanalyse(b, missingPcap(s.dir, `${CAPTURE}.pcap`)) },
  { kind: 'capture-dropped', name: `${CAPTURE}.pcap not a pcap`, applies: () => true, apply: (b, s) => reanalyse(b, foreignPcap(s.dir, `${CAPTURE}.pcap`)) },
];

const withClient = (e: ReplyEvidence, change: Partial<NonNullable<ReplyEvidence['client']>>): ReplyEvidence => ({
  ...e,
  client: { ...clientOf(e), ...change },
});

const stories: Array<Perturbation<ReplyEvidence>> = [
  {
    kind: 'agent-capture-disagree',
    name: 'the client got every reply, the capture shows them from the wrong source, answered with ICMP port unreachable',
    applies: (b) => b.evidence.onBridge.wrongSourceReplies > 0,
    apply: (b) => withClient(b.evidence, { received: clientOf(b.evidence).sent, replySources: b.evidence.onBridge.replySources }),
  },
  {
    kind: 'agent-capture-disagree',
    name: 'the client got no reply, the capture shows every reply from the right source and no ICMP error',
    applies: (b) => b.evidence.onBridge.wrongSourceReplies === 0 && b.evidence.onBridge.replies > 0,
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
  // The tcp recording predates reading TCP replies from the capture: only the UDP ones can be compared.
  rederive: async (b) => (udp(b) ? reanalyse({ ...b, evidence: b.recorded ?? b.evidence }) : (b.recorded ?? b.evidence)),
  knownDefects: {},
};
