/** A verdict's facets in words, the same in every report: the kind of an INCONCLUSIVE, what the outcome and the mechanism showed. */
import type { MechanismFacet, OutcomeFacet, Verdict } from '../run/verdict.js';

/** "INCONCLUSIVE (emulation-gap)"; a decided verdict as it is. */
export function verdictText(v: Pick<Verdict, 'verdict' | 'inconclusive'>): string {
  return v.inconclusive ? `${v.verdict} (${v.inconclusive})` : v.verdict;
}

export function seenText(seen: boolean | null): string {
  return seen === true ? 'seen' : seen === false ? 'not seen' : 'not shown either way';
}

/** "connection reset: seen (the client got ECONNRESET after 12 echoes)". */
export function outcomeText(o: OutcomeFacet): string {
  return `${o.failure}: ${seenText(o.seen)}${o.detail ? ` (${o.detail})` : ''}`;
}

export function mechanismText(m: MechanismFacet): string {
  return `${m.name}: ${seenText(m.seen)}${m.detail ? ` (${m.detail})` : ''}`;
}

/** A short mark for a table column: yes, no, ? or — when the judge gave no such facet. */
export function seenMark(facet: { seen: boolean | null } | undefined): string {
  if (!facet) return '—';
  return facet.seen === true ? 'yes' : facet.seen === false ? 'no' : '?';
}
