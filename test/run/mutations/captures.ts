/**
 * Capture perturbations of a coded lab, whose run reads its pcaps with tcpdump's statistics beside them: each one is
 * made on the recorded files and statistics, then read again through the scenario's own analysis (`reanalyse`).
 */
import type { CaptureStats } from '../../../src/run/pcap.js';
import type { Base, Perturbation } from './harness.js';
import { cutPcap, emptyPcap, foreignPcap, missingPcap } from './faults.js';

/** One capture replaced: its file, tcpdump's statistics, or both. */
export interface CaptureChange {
  file?: string;
  stats?: CaptureStats;
}

export interface CodedCaptures<E> {
  names: readonly string[];
  /** The recorded pcap of a capture, and tcpdump's statistics recorded with it (undefined: the run has no such capture). */
  recorded(b: Base<E>, name: string): { file: string; stats: CaptureStats } | undefined;
  reanalyse(b: Base<E>, name: string, change: CaptureChange): Promise<E>;
}

const NO_STATS: CaptureStats = { captured: null, droppedByKernel: null };

export function capturePerturbations<E>(c: CodedCaptures<E>): Array<Perturbation<E>> {
  const withPackets = (name: string) => (b: Base<E>) => (c.recorded(b, name)?.stats.captured ?? 0) > 0;
  const file = (b: Base<E>, name: string) => c.recorded(b, name)!.file;
  return c.names.flatMap((name): Array<Perturbation<E>> => [
    {
      // The file lost its packets; tcpdump had said how many it captured.
      kind: 'capture-empty',
      name: `${name}.pcap emptied`,
      applies: withPackets(name),
      apply: (b, s) => c.reanalyse(b, name, { file: emptyPcap(file(b, name), s.dir) }),
    },
    {
      kind: 'capture-dropped',
      name: `${name}.pcap missing`,
      applies: withPackets(name),
      apply: (b, s) => c.reanalyse(b, name, { file: missingPcap(s.dir, `${name}.pcap`) }),
    },
    {
      kind: 'capture-dropped',
      name: `${name}.pcap not a pcap`,
      applies: withPackets(name),
      apply: (b, s) => c.reanalyse(b, name, { file: foreignPcap(s.dir, `${name}.pcap`) }),
    },
    {
      kind: 'capture-unproven',
      name: `${name}.pcap cut after half its packets (tcpdump's count kept)`,
      applies: (b) => (c.recorded(b, name)?.stats.captured ?? 0) > 1,
      apply: (b, s) => c.reanalyse(b, name, { file: cutPcap(file(b, name), s.dir, Math.floor(c.recorded(b, name)!.stats.captured! / 2)) }),
    },
    {
      kind: 'capture-unproven',
      name: `${name}: tcpdump printed no statistics (killed, not stopped)`,
      applies: withPackets(name),
      apply: (b) => c.reanalyse(b, name, { stats: NO_STATS }),
    },
    {
      kind: 'capture-unproven',
      name: `${name}: tcpdump counted more packets than the file holds`,
      applies: withPackets(name),
      apply: (b) => c.reanalyse(b, name, { stats: { ...c.recorded(b, name)!.stats, captured: c.recorded(b, name)!.stats.captured! + 3 } }),
    },
    {
      kind: 'capture-unproven',
      name: `${name}: the kernel dropped packets before tcpdump read them`,
      applies: withPackets(name),
      apply: (b) => c.reanalyse(b, name, { stats: { ...c.recorded(b, name)!.stats, droppedByKernel: 4 } }),
    },
    {
      // A live capture that saw nothing: the file empty and tcpdump agreeing. The judge must see the link carried traffic.
      kind: 'capture-empty',
      name: `${name}.pcap emptied, tcpdump reporting 0 captured (live, saw nothing)`,
      applies: withPackets(name),
      apply: (b, s) => c.reanalyse(b, name, { file: emptyPcap(file(b, name), s.dir), stats: { captured: 0, droppedByKernel: 0 } }),
    },
  ]);
}
