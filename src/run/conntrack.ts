/** `conntrack -S` counters of a node, summed over CPUs. */
import type { Transport } from '../transport/types.js';

export type ConntrackStats = Record<string, number>;

export function parseConntrackStats(text: string): ConntrackStats {
  const totals: ConntrackStats = {};
  for (const line of text.split('\n')) {
    for (const m of line.matchAll(/([a-z_]+)=(\d+)/g)) {
      totals[m[1]!] = (totals[m[1]!] ?? 0) + Number(m[2]);
    }
  }
  return totals;
}

export async function conntrackStats(t: Transport): Promise<ConntrackStats> {
  const out = await t.exec(['conntrack', '-S'], { check: false });
  return parseConntrackStats(out.stdout);
}

export function delta(before: ConntrackStats, after: ConntrackStats, key: string): number | null {
  if (before[key] === undefined || after[key] === undefined) return null;
  return after[key]! - before[key]!;
}

/** The INVALID counter of a node before and after a run, as evidence. */
export function invalidCounters(node: string, before: ConntrackStats, after: ConntrackStats) {
  return { node, invalidBefore: before.invalid ?? null, invalidAfter: after.invalid ?? null, invalidDelta: delta(before, after, 'invalid') };
}
