/**
 * docker-1090-declared: no run of it is recorded (test/fixtures/declarative/runs has none), so its bases are synthetic,
 * made from the coded docker-1090 recordings on 6.18 of the same variants (same topology, addresses and +100000
 * trigger): their real pcaps stand in for the declared captures (server-eth0 for at-server, client-eth0 for at-uplink,
 * client-docker0 for at-docker0) and are counted by the rule engine itself; the agents' summaries are the coded ones
 * mapped onto the generic agents' fields (injected: the server forged its segment; the client's sent, received =
 * echoed, errors = its error when reset). The injector's log is written from the coded server's: its "forged" event
 * becomes the injector's "injected" (same time, same segment), which the rules count packets from. The recordings are
 * copied into a scratch folder for that log, removed when the process exits. Phase "injected" spans the whole capture.
 * The stored verdict is the lab file's expectation for that kernel. The declared perturbations then act on these
 * artifacts like on a recorded run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadLab } from '../../../src/lab/load.js';
import { expectationFor } from '../../../src/lab/expect.js';
import type { Recorded } from '../../../src/run/declarative/steps.js';
import type { OowEvidence } from '../../../src/run/scenarios/oow-rst-judge.js';
import type { VerdictValue } from '../../../src/run/verdict.js';
import { recorded, recordedDir } from '../recorded.js';
import type { Base, Perturbation } from './harness.js';
import { currentRules, declaredSubjectFrom, inCopy, type DeclaredRun } from './declared.js';

const LAB = 'docker-1090-declared';
const CODED = 'docker-1090-6.18';
const repository = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const lab = loadLab(path.join(repository, 'labs', LAB));

const copies = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-docker-1090-declared-'));
process.on('exit', () => fs.rmSync(copies, { recursive: true, force: true }));

/**
 * The coded variant's folder copied, with agents/injector.jsonl: the coded server's "ready" and "forged" events as the
 * generic injector logs them ("forged" becomes "injected", same time and segment). Null when the server forged nothing.
 */
function withInjectorLog(variant: string): string | null {
  fs.cpSync(recordedDir(CODED, variant), path.join(copies, variant), { recursive: true });
  const lines = fs
    .readFileSync(path.join(copies, variant, 'agents', 'server.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim());
  const events = lines.map((l) => JSON.parse(l) as { event: string; t: number; seq?: number; ack?: number; offset?: number; length?: number });
  const forged = events.find((e) => e.event === 'forged');
  const ready = events.find((e) => e.event === 'ready');
  if (!forged || !ready) return null;
  const injected = { event: 'injected', t: forged.t, seq: forged.seq, ack: forged.ack, offset: forged.offset, length: forged.length, sentAt: forged.t };
  const log = [{ event: 'ready', t: ready.t }, injected].map((e) => JSON.stringify(e)).join('\n');
  fs.writeFileSync(path.join(copies, variant, 'agents', 'injector.jsonl'), `${log}\n`);
  return `${variant}/agents/injector.jsonl`;
}

const CAPTURES = { 'at-server': ['server', 'server-eth0'], 'at-uplink': ['client', 'client-eth0'], 'at-docker0': ['client', 'client-docker0'] } as const;

function base(variant: string): Base<DeclaredRun> | null {
  const coded = recorded<OowEvidence>(CODED, variant);
  const e = coded.evidence;
  // Every declared capture needs its stand-in: the coded no-nat run has no docker0 capture (its client is on the host).
  const pcap = (file: string) => path.join(recordedDir(CODED, variant), 'pcap', `${file}.pcap`);
  if (!e.server.ok || !e.client.ok || !Object.values(CAPTURES).every(([, file]) => fs.existsSync(pcap(file)))) return null;
  const injectorLog = withInjectorLog(variant);
  if (!injectorLog) return null;
  const client = e.client.value;
  const summary = (fields: Record<string, unknown>) => ({ event: 'summary', t: 0, ...fields });
  const captures = Object.fromEntries(
    Object.entries(CAPTURES).map(([name, [node, file]]) => {
      const listed = e.pcaps.find((p) => p.file.endsWith(`/${file}.pcap`));
      return [name, { node, iface: file.split('-')[1]!, file: `${variant}/pcap/${file}.pcap`, captured: listed?.captured ?? null, droppedByKernel: 0 }];
    }),
  );
  const rec: Recorded = {
    phases: [{ name: 'injected', start: 0, end: 4e9 }],
    agents: {
      server: { node: 'server', log: `${variant}/agents/server.jsonl`, summary: summary({ connected: true }) },
      injector: { node: 'server', log: injectorLog, summary: summary({ injected: e.server.value.forged ? 1 : 0, errors: [] }) },
      client: {
        node: 'app',
        log: `${variant}/agents/client.jsonl`,
        summary: summary({ sent: client.sent, received: client.echoed, errors: client.outcome === 'reset' ? [client.error ?? 'ECONNRESET'] : [] }),
      },
    },
    captures,
    snapshots: {},
    commands: [],
    conntrack: {},
  };
  const expected = lab.variants.find((v) => v.name === variant)?.expect;
  return {
    variant,
    // The coded client sent fewer lines than the declared one's 30: the rules count against what this client sent.
    evidence: { evidence: { rules: currentRules(lab, variant, { lines: client.sent }), recorded: rec, measures: {} }, root: copies },
    stored: (expectationFor(expected ?? [], e.kernel)?.verdict ?? 'unknown') as VerdictValue,
    synthetic: `the artifacts of the coded ${CODED}/${variant} recording (kernel ${e.kernel}), as ${LAB}'s captures and generic agents`,
  };
}

const bases = lab.variants.flatMap((v) =>
  fs.existsSync(path.join(recordedDir(CODED, v.name), 'evidence.json')) ? [base(v.name)].filter((b) => b !== null) : [],
);

const clientSummary = (r: Recorded) => r.agents.client!.summary as unknown as { sent: number; received: number; errors: string[] };
const reset = (b: Base<DeclaredRun>) => clientSummary(b.evidence.evidence.recorded).errors.length > 0;
const hostRsts = (variant: string) => (recorded<OowEvidence>(CODED, variant).evidence.clientHostPath?.hostRsts ?? []).length;

/** When the coded client read its last echo (its log's summary), in its node's clock. */
function lastEcho(variant: string): number {
  const lines = fs.readFileSync(path.join(recordedDir(CODED, variant), 'agents', 'client.jsonl'), 'utf8').split('\n');
  const summary = lines.map((l) => (l.trim() ? (JSON.parse(l) as { event: string; lastEchoT?: number }) : null)).find((e) => e?.event === 'summary');
  return summary!.lastEchoT!;
}

const stories: Array<Perturbation<DeclaredRun>> = [
  {
    kind: 'fault-after-use',
    name: 'the injector forged its segment 1 ms after the client read its last echo (every echo intact, no line after it)',
    applies: (b) => b.stored === 'NOT_REPRODUCED',
    apply: (b, s) =>
      inCopy(b, s, (r, file) => {
        const log = file(r.agents.injector!.log);
        const at = lastEcho(b.variant) + 0.001;
        const moved = fs
          .readFileSync(log, 'utf8')
          .split('\n')
          .map((l) => (l.includes('"injected"') ? JSON.stringify({ ...(JSON.parse(l) as object), t: at, sentAt: at }) : l));
        fs.writeFileSync(log, moved.join('\n'));
      }),
  },
  {
    kind: 'mechanism-without-failure',
    name: "the client host's RSTs on the uplink as recorded, the client intact with every echo",
    applies: (b) => hostRsts(b.variant) > 0,
    apply: (b, s) =>
      inCopy(b, s, (r) => {
        const c = clientSummary(r);
        Object.assign(c, { received: c.sent, errors: [] });
      }),
  },
  {
    kind: 'agent-capture-disagree',
    name: 'the client reports a reset (ECONNRESET) that no capture shows',
    applies: (b) => !reset(b) && hostRsts(b.variant) === 0,
    apply: (b, s) => inCopy(b, s, (r) => void (clientSummary(r).errors = ['ECONNRESET'])),
  },
];

// Phase "injected" spans the whole capture here (the coded run marked no phases): shifting clocks would test nothing.
export const docker1090Declared = declaredSubjectFrom(LAB, bases, stories, {}, { skew: false });
