/**
 * taskcluster-reset (late-segments): every recorded variant, perturbed. Capture perturbations read the recorded pcaps
 * again with one file emptied, missing or foreign, and classify the RSTs with the scenario's own classifyRsts.
 */
import fs from 'node:fs';
import { lateCaptures, lateSegmentsScenario } from '../../../src/run/scenarios/late-segments.js';
import { classifyRsts, clientSummarySchema, serverSummarySchema, type LateEvidence } from '../../../src/run/scenarios/late-segments-judge.js';
import { CaptureReader, connectionUnseen, type CaptureStats, type TcpSegment } from '../../../src/run/pcap.js';
import { parseSummary } from '../../../src/run/summary.js';
import { recorded, recordedDir, recordedFile } from '../recorded.js';
import type { Base, Perturbation, Subject } from './harness.js';
import { unparsableSummaries } from './faults.js';
import { capturePerturbations, type CaptureChange } from './captures.js';

const LAB = 'taskcluster-reset';
const PORT = 8080;
/** The server's end as tcpdump prints it: labs/taskcluster-reset/lab.yaml gives the server 10.30.2.2 (the evidence does not name it). */
const SERVER_END = `10.30.2.2.${PORT}`;
const params = lateSegmentsScenario.params.parse({ client: 'app', server: 'server' });
const variants = fs.readdirSync(recordedDir(LAB, '')).filter((v) => fs.existsSync(recordedFile(LAB, v, 'evidence.json')));

const recordings: Array<Base<LateEvidence>> = variants.map((variant) => {
  const r = recorded<LateEvidence>(LAB, variant);
  return { variant, evidence: r.evidence, stored: r.verdict };
});

const CAPTURES = ['server-eth0', 'client-eth0', 'client-docker0'] as const;
type CaptureName = (typeof CAPTURES)[number];

const serverOf = (e: LateEvidence) => {
  if (!e.server.ok) throw new Error('internal: recorded server summary parses');
  return e.server.value;
};
const clientOf = (e: LateEvidence) => {
  if (!e.client.ok) throw new Error('internal: recorded client summary parses');
  return e.client.value;
};

/** late-segments' run() from its captures on: this connection's segments on each link, the injected ones, the RSTs by sender. */
async function reanalyse(b: Base<LateEvidence>, changes: Partial<Record<CaptureName, CaptureChange>> = {}): Promise<LateEvidence> {
  const e = b.evidence;
  const server = serverOf(e);
  const file = (name: CaptureName) => changes[name]?.file ?? recordedFile(LAB, b.variant, `pcap/${name}.pcap`);
  const stats = (name: CaptureName) => changes[name]?.stats ?? recordedStats(e, name);
  const reader = new CaptureReader();
  const [peerIp, peerPort] = server.peer!.split(':');
  const connection = `tcp and host ${peerIp} and port ${peerPort} and port ${PORT}`;
  const atServer = await reader.segments(file('server-eth0'), connection, stats('server-eth0'));
  const atUplink = await reader.segments(file('client-eth0'), connection, stats('client-eth0'));
  const atBridge = await reader.segments(file('client-docker0'), `tcp and port ${PORT}`, stats('client-docker0'));
  const injectedSeqs = server.injected.map((i) => i.seq);
  const isInjected = (s: TcpSegment) => s.src === SERVER_END && injectedSeqs.includes(s.seq ?? -1);
  return {
    ...e,
    captureProblems: reader.problems.length ? reader.problems : connectionUnseen(lateCaptures(atServer, atUplink, atBridge)),
    injected: { sent: injectedSeqs.length, seenOnClientUplink: atUplink.filter(isInjected).length, forwardedToContainer: atBridge.filter(isInjected).length },
    rst: { ...classifyRsts(injectedSeqs, atUplink, atBridge, atServer, SERVER_END), seenByServerAgent: server.rstsSeen },
    pcaps: e.pcaps.map((p) => {
      const changed = Object.entries(changes).find(([n]) => p.file.endsWith(`/${n}.pcap`))?.[1]?.stats;
      return changed ? { ...p, ...changed } : p;
    }),
  };
}

/** tcpdump's statistics of a capture as the run recorded them. */
function recordedStats(e: LateEvidence, name: CaptureName): CaptureStats {
  const p = e.pcaps.find((x) => x.file.endsWith(`/${name}.pcap`));
  if (!p) throw new Error(`internal: the run has no capture ${name}`);
  return { captured: p.captured, droppedByKernel: p.droppedByKernel };
}

/** Every recording, its capture-derived fields computed again from its pcaps as run() does today (as the judge's tests do). */
const bases: Array<Base<LateEvidence>> = await Promise.all(
  recordings.map(async (b) => (b.evidence.server.ok ? { ...b, evidence: await reanalyse(b), recorded: b.evidence } : b)),
);

const hasCapture = (b: Base<LateEvidence>, name: CaptureName) => b.evidence.pcaps.some((p) => p.file.endsWith(`/${name}.pcap`) && (p.captured ?? 0) > 0);
const hostRsts = (b: Base<LateEvidence>) => b.evidence.rst?.fromClientHostAfterInjection.length ?? 0;

const captures = capturePerturbations<LateEvidence>({
  names: CAPTURES,
  recorded: (b, name) =>
    hasCapture(b, name as CaptureName)
      ? { file: recordedFile(LAB, b.variant, `pcap/${name}.pcap`), stats: recordedStats(b.evidence, name as CaptureName) }
      : undefined,
  reanalyse: (b, name, change) => reanalyse(b, { [name]: change }),
});

/** A RST from the client host's end on the uplink after the first injected segment, as tcpdump prints it. */
const hostRstLine = (e: LateEvidence) => `0.0 IP ${serverOf(e).peer!.replace(':', '.')} > ${SERVER_END}: Flags [R], seq 1, win 0, length 0`;
const withHostRst = (e: LateEvidence, reachedServer: number, seenByServerAgent: number): LateEvidence => ({
  ...e,
  server: { ok: true, value: { ...serverOf(e), rstsSeen: seenByServerAgent } },
  rst: { ...e.rst!, fromClientHostAfterInjection: [hostRstLine(e)], reachedServer, atServer: (e.rst!.atServer ?? 0) + reachedServer, seenByServerAgent },
});

const stories: Array<Perturbation<LateEvidence>> = [
  {
    kind: 'agent-capture-disagree',
    name: 'the server agent saw a RST that no capture shows',
    applies: (b) => hostRsts(b) === 0 && b.evidence.rst !== null,
    apply: (b) => ({ ...b.evidence, server: { ok: true, value: { ...serverOf(b.evidence), rstsSeen: 1 } }, rst: { ...b.evidence.rst!, seenByServerAgent: 1 } }),
  },
  {
    kind: 'agent-capture-disagree',
    name: 'the captures show a host RST reaching the server that the server agent did not see',
    applies: (b) => hostRsts(b) === 0 && b.evidence.rst !== null,
    apply: (b) => withHostRst(b.evidence, 1, 0),
  },
  {
    kind: 'completed-with-rst',
    name: 'a host RST after an injected segment (uplink, server capture and server agent agree), the download complete',
    applies: (b) => b.evidence.rst !== null && b.evidence.client.ok && clientOf(b.evidence).completed,
    apply: (b) => withHostRst(b.evidence, 1, 1),
  },
  {
    kind: 'failure-without-mechanism',
    name: 'the download reset (ECONNRESET) with no RST in any capture',
    applies: (b) => b.evidence.client.ok,
    apply: (b) => {
      const c = clientOf(b.evidence);
      const at = Math.floor((c.expectedBytes ?? c.bytesReceived) / 2);
      return { ...b.evidence, client: { ok: true, value: { ...c, completed: false, bytesReceived: at, stoppedAt: at, error: 'ECONNRESET' } } };
    },
  },
  {
    kind: 'agents-disagree',
    name: 'the client reports a complete download of more bytes than the server sent',
    applies: (b) => b.evidence.client.ok && b.evidence.server.ok,
    apply: (b) => {
      const more = serverOf(b.evidence).bytes * 2;
      return { ...b.evidence, client: { ok: true, value: { ...clientOf(b.evidence), bytesReceived: more, expectedBytes: more } } };
    },
  },
];

const crashes: Array<Perturbation<LateEvidence>> = [
  {
    kind: 'agent-crashed',
    // What run() records without a server summary: no injected sequence numbers known, no RST classified.
    name: 'the server agent crashed (no summary)',
    applies: () => true,
    apply: (b) => ({ ...b.evidence, server: parseSummary('server', serverSummarySchema, undefined), injected: { ...b.evidence.injected, sent: 0 }, rst: null }),
  },
  {
    kind: 'agent-crashed',
    name: 'the client agent crashed (no summary)',
    applies: () => true,
    apply: (b) => ({ ...b.evidence, client: parseSummary('client', clientSummarySchema, undefined) }),
  },
  {
    kind: 'side-evidence-failed',
    name: 'conntrack -S failed on the client host (no invalid counter)',
    applies: (b) => b.evidence.conntrack.invalidDelta !== null,
    apply: (b) => ({ ...b.evidence, conntrack: { ...b.evidence.conntrack, invalidBefore: null, invalidAfter: null, invalidDelta: null } }),
  },
];

const unparsable = unparsableSummaries(bases, { server: serverSummarySchema, client: clientSummarySchema }, 8080, 3);

export const taskclusterReset: Subject<LateEvidence> = {
  lab: LAB,
  bases,
  judge: (e) => lateSegmentsScenario.judge(e, params),
  perturbations: [...captures, ...stories, ...crashes, ...unparsable],
  rederive: (b) => reanalyse({ ...b, evidence: b.recorded ?? b.evidence }),
  knownDefects: {},
};
