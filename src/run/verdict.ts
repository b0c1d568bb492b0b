export type VerdictValue = 'REPRODUCED' | 'NOT_REPRODUCED' | 'INCONCLUSIVE';

export interface Verdict {
  verdict: VerdictValue;
  /** One sentence, citing the evidence that decided it. */
  reason: string;
  /** The evidence keys the verdict was computed from. */
  decidedBy: string[];
}

export function verdict(value: VerdictValue, reason: string, decidedBy: string[]): Verdict {
  return { verdict: value, reason, decidedBy };
}
