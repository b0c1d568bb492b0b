export type VerdictValue = 'REPRODUCED' | 'NOT_REPRODUCED' | 'INCONCLUSIVE';

/**
 * What the application saw: the failure the lab file names (a reset, a stall, lost datagrams, ...) and whether this
 * run saw it. `seen: true` is the only ground for REPRODUCED; `seen: false` (with positive evidence that traffic
 * flowed) the only ground for NOT_REPRODUCED; `null` means the evidence does not say.
 */
export interface OutcomeFacet {
  failure: string;
  seen: boolean | null;
  detail: string;
}

/** The mechanism behind the failure (a RST emitted, a segment INVALID, an entry kept): corroboration, never the verdict. */
export interface MechanismFacet {
  name: string;
  seen: boolean | null;
  detail: string;
}

/**
 * Why a verdict is INCONCLUSIVE. Only `emulation-gap` (the lab says it cannot run what the report is about) may be
 * expected by a lab file; a crash, a time-out or missing evidence never matches an expectation.
 */
export const INCONCLUSIVE_KINDS = ['emulation-gap', 'evidence-missing', 'evidence-conflict', 'error'] as const;
export type InconclusiveKind = (typeof INCONCLUSIVE_KINDS)[number];

export interface Verdict {
  verdict: VerdictValue;
  /** One sentence, citing the evidence that decided it. */
  reason: string;
  /** The evidence keys the verdict was computed from. */
  decidedBy: string[];
  outcome?: OutcomeFacet;
  mechanism?: MechanismFacet;
  /** Set on every INCONCLUSIVE; absent otherwise. */
  inconclusive?: InconclusiveKind;
}

/** An INCONCLUSIVE without a kind is one whose evidence is missing; give the kind when it is another. */
export function verdict(value: VerdictValue, reason: string, decidedBy: string[], kind?: InconclusiveKind): Verdict {
  if (value !== 'INCONCLUSIVE') return { verdict: value, reason, decidedBy };
  return { verdict: value, reason, decidedBy, inconclusive: kind ?? 'evidence-missing' };
}
