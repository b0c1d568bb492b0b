/**
 * docker-1090 (oow-rst): every recorded variant, perturbed. A capture perturbation reads the recorded pcaps again with
 * the one capture emptied, dropped or foreign, through the scenario's own pure analysis, so the evidence is what a run
 * with that capture would have recorded.
 */
import fs from 'node:fs';
import { oowCaptures, oowRstScenario } from '../../../src/run/scenarios/oow-rst.js';
import { clientSummarySchema, serverSummarySchema, type OowEvidence } from '../../../src/run/scenarios/oow-rst-judge.js';
import { clientHostPath, rstsAtServerAfterForged } from '../../../src/run/scenarios/oow-rst-path.js';
import { CaptureReader, connectionUnseen, type CaptureStats } from '../../../src/run/pcap.js';
import { parseSummary } from '../../../src/run/summary.js';
import { recorded, recordedDir, recordedFile } from '../recorded.js';
import type { Base, Perturbation, Subject } from './harness.js';
import { unparsableSummaries } from './faults.js';
import { capturePerturbations, type CaptureChange } from './captures.js';

const LAB = 'docker-1090';
const PORT = 9000;
const params = oowRstScenario.params.parse({ client: 'app', server: 'server' });
/**
 * Every recording: one folder per kernel (docker-1090-6.18, -6.1, -5.10), and the first ones (docker-1090, 6.18 before
 * the per-kernel folders). A base's variant is "<kernel>/<variant>", "first/<variant>" for the first folder.
 */
const RECORDINGS = fs
  .readdirSync(recordedDir('', ''))
  .filter((d) => d === LAB || d.startsWith(`${LAB}-`))
  .sort();
const FIRST = 'first';
const labelOf = (dir: string) => (dir === LAB ? FIRST : dir.slice(LAB.length + 1));
const where = (variant: string) => {
  const [kernel, name] = variant.split('/');
  return { dir: kernel === FIRST ? LAB : `${LAB}-${kernel}`, name: name! };
};
const artifact = (variant: string, file: string) => recordedFile(where(variant).dir, where(variant).name, file);

const recordings: Array<Base<OowEvidence>> = RECORDINGS.flatMap((dir) =>
  fs
    .readdirSync(recordedDir(dir, ''))
    .filter((v) => fs.existsSync(recordedFile(dir, v, 'evidence.json')))
    .map((name) => {
      const r = recorded<OowEvidence>(dir, name);
      const before = dir === LAB ? { analysedBefore: 'recorded before the held segments left out the forged one' } : {};
      return { variant: `${labelOf(dir)}/${name}`, evidence: r.evidence, stored: r.verdict, ...before };
    }),
);

const CAPTURES = ['server-eth0', 'client-eth0', 'client-docker0'] as const;
type CaptureName = (typeof CAPTURES)[number];

const hasCapture = (b: Base<OowEvidence>, name: CaptureName) => b.evidence.pcaps.some((p) => p.file.endsWith(`/${name}.pcap`) && (p.captured ?? 0) > 0);

/**
 * The run's pcap analysis (readPath in oow-rst.ts) again, on the recorded pcaps with one file replaced: the segments
 * of this connection at the server, on the client host's uplink and on its bridge.
 */
export async function reanalyse(b: Base<OowEvidence>, changes: Partial<Record<CaptureName, CaptureChange>> = {}): Promise<OowEvidence> {
  const e = b.evidence;
  if (!e.server.ok || !e.server.value.forged) throw new Error(`internal: ${b.variant} has no forged segment to analyse`);
  const server = e.server.value;
  const forged = server.forged!;
  const file = (name: CaptureName) => changes[name]?.file ?? artifact(b.variant, `pcap/${name}.pcap`);
  const stats = (name: CaptureName) => changes[name]?.stats ?? recordedStats(e, name);
  const reader = new CaptureReader();
  const [peerIp, peerPort] = server.peer!.split(':');
  const connection = `tcp and host ${peerIp} and port ${peerPort} and port ${PORT}`;
  const natBetween = e.pcaps.some((p) => p.file.endsWith('/client-docker0.pcap'));
  const containerPort = e.client.ok ? e.client.value.local?.split(':')[1] : undefined;
  const atServer = await reader.segments(file('server-eth0'), connection, stats('server-eth0'));
  const uplink = await reader.segments(file('client-eth0'), connection, stats('client-eth0'));
  const docker0 =
    natBetween && containerPort ? await reader.segments(file('client-docker0'), `tcp and port ${containerPort} and port ${PORT}`, stats('client-docker0')) : [];
  const serverEnd = server.local!.replace(':', '.');
  const rsts = rstsAtServerAfterForged(atServer, forged, serverEnd);
  return {
    ...e,
    captureProblems: reader.problems.length ? reader.problems : connectionUnseen(oowCaptures(atServer, uplink, natBetween && containerPort ? docker0 : null)),
    rstAtServer: { ...e.rstAtServer, fromPcap: rsts.length, packets: rsts.slice(0, 5).map((s) => s.line), atServer: rsts.slice(0, 5) },
    clientHostPath: clientHostPath({ forged, serverEnd, uplink, inner: natBetween ? docker0 : uplink, natBetween }),
    pcaps: e.pcaps.map((p) => {
      const changed = Object.entries(changes).find(([n]) => p.file.endsWith(`/${n}.pcap`))?.[1]?.stats;
      return changed ? { ...p, ...changed } : p;
    }),
  };
}

/** tcpdump's statistics of a capture as the run recorded them (a run without that capture has none to check). */
function recordedStats(e: OowEvidence, name: CaptureName): CaptureStats {
  const p = e.pcaps.find((x) => x.file.endsWith(`/${name}.pcap`));
  if (!p) throw new Error(`internal: the run has no capture ${name}`);
  return { captured: p.captured, droppedByKernel: p.droppedByKernel };
}

/** Every recording, its capture-derived fields computed again from its pcaps as run() does today (as the judge's tests do). */
const bases: Array<Base<OowEvidence>> = await Promise.all(
  recordings.map(async (b) => (b.evidence.server.ok && b.evidence.server.value.forged ? { ...b, evidence: await reanalyse(b), recorded: b.evidence } : b)),
);

const rstRecorded = (b: Base<OowEvidence>) => (b.evidence.rstAtServer.fromPcap ?? 0) > 0;
const clientOf = (e: OowEvidence) => {
  if (!e.client.ok) throw new Error('internal: recorded client summary parses');
  return e.client.value;
};
const serverOf = (e: OowEvidence) => {
  if (!e.server.ok) throw new Error('internal: recorded server summary parses');
  return e.server.value;
};

const captures = capturePerturbations<OowEvidence>({
  names: CAPTURES,
  recorded: (b, name) =>
    hasCapture(b, name as CaptureName) ? { file: artifact(b.variant, `pcap/${name}.pcap`), stats: recordedStats(b.evidence, name as CaptureName) } : undefined,
  reanalyse: (b, name, change) => reanalyse(b, { [name]: change }),
});

const INTACT = (e: OowEvidence): OowEvidence => {
  const c = clientOf(e);
  return { ...e, client: { ok: true, value: { ...c, outcome: 'intact', echoed: c.sent, error: null } } };
};
const rstLine = (e: OowEvidence) =>
  `0.0 IP ${serverOf(e).peer!.replace(':', '.')} > ${serverOf(e).local!.replace(':', '.')}: Flags [R], seq 1, win 0, length 0`;

const disagreements: Array<Perturbation<OowEvidence>> = [
  {
    kind: 'agent-capture-disagree',
    name: 'the server agent counts a RST the server capture does not show',
    applies: (b) => !rstRecorded(b) && b.evidence.server.ok,
    apply: (b) => ({
      ...b.evidence,
      server: { ok: true, value: { ...serverOf(b.evidence), rstsAfterForge: 1, firstRstMsAfterForge: 5 } },
      rstAtServer: { ...b.evidence.rstAtServer, fromAgent: 1, firstMsAfterForge: 5 },
    }),
  },
  {
    kind: 'agent-capture-disagree',
    name: 'the server capture shows a RST the server agent did not count',
    applies: (b) => !rstRecorded(b) && b.evidence.server.ok,
    apply: (b) => ({ ...b.evidence, rstAtServer: { ...b.evidence.rstAtServer, fromPcap: 1, packets: [rstLine(b.evidence)] } }),
  },
  {
    kind: 'agent-capture-disagree',
    name: 'the server agent counts no RST where the server capture shows one',
    applies: rstRecorded,
    apply: (b) => ({
      ...b.evidence,
      server: { ok: true, value: { ...serverOf(b.evidence), rstsAfterForge: 0, firstRstMsAfterForge: null } },
      rstAtServer: { ...b.evidence.rstAtServer, fromAgent: 0, firstMsAfterForge: null },
    }),
  },
];

const mechanismWithoutFailure: Array<Perturbation<OowEvidence>> = [
  {
    kind: 'mechanism-without-failure',
    name: 'a RST from the client host reached the server (agent and capture agree), the client intact with every echo',
    // Not where the recording already is one (5.10 behind-in-flight: a RST the server ignored, every echo back).
    applies: (b) =>
      b.evidence.client.ok &&
      b.evidence.server.ok &&
      b.evidence.clientHostPath !== null &&
      !(rstRecorded(b) && clientOf(b.evidence).outcome === 'intact' && clientOf(b.evidence).echoed === clientOf(b.evidence).sent),
    apply: (b) => {
      const e = INTACT(b.evidence);
      const n = Math.max(1, e.rstAtServer.fromPcap ?? 0);
      return {
        ...e,
        rstAtServer: {
          ...e.rstAtServer,
          fromAgent: n,
          fromPcap: n,
          firstMsAfterForge: e.rstAtServer.firstMsAfterForge ?? 5,
          packets: e.rstAtServer.packets.length ? e.rstAtServer.packets : [rstLine(e)],
        },
      };
    },
  },
];

const crashes: Array<Perturbation<OowEvidence>> = [
  {
    kind: 'agent-crashed',
    // What run() records when the server agent wrote no summary: no forged segment known, so no capture was analysed.
    name: 'the server agent crashed (no summary, no analysis)',
    applies: () => true,
    apply: (b) => ({
      ...b.evidence,
      server: parseSummary('server', serverSummarySchema, undefined),
      captureProblems: [],
      rstAtServer: { fromAgent: null, fromPcap: null, firstMsAfterForge: null, packets: [] },
      clientHostPath: null,
    }),
  },
  {
    kind: 'agent-crashed',
    name: 'the client agent crashed (no summary)',
    applies: () => true,
    apply: (b) => ({ ...b.evidence, client: parseSummary('client', clientSummarySchema, undefined) }),
  },
];

const sideEvidence: Array<Perturbation<OowEvidence>> = [
  {
    kind: 'side-evidence-failed',
    name: 'conntrack -S failed on the client host (no invalid counter)',
    applies: (b) => b.evidence.conntrack.invalidDelta !== null,
    apply: (b) => ({ ...b.evidence, conntrack: { ...b.evidence.conntrack, invalidBefore: null, invalidAfter: null, invalidDelta: null } }),
  },
  {
    kind: 'side-evidence-failed',
    name: 'cat tcp_rmem failed on the client (no window setting)',
    applies: () => true,
    apply: (b) => ({ ...b.evidence, clientTcpRmem: null }),
  },
];

/** Random corruptions of each summary, a few per variant, each re-parsed with the agent's own schema. */
const unparsable = unparsableSummaries(bases, { server: serverSummarySchema, client: clientSummarySchema }, 1090, 2);

export const docker1090: Subject<OowEvidence> = {
  lab: LAB,
  bases,
  judge: (e) => oowRstScenario.judge(e, params),
  rederive: (b) => reanalyse({ ...b, evidence: b.recorded ?? b.evidence }),
  perturbations: [...captures, ...disagreements, ...mechanismWithoutFailure, ...crashes, ...sideEvidence, ...unparsable],
  knownDefects: {},
};
