/** How every provider's preflight says that an earlier run of the lab left things under its names. */
import type { ResolvedLab } from '../lab/model.js';
import { labRef } from '../lab/names.js';

export function leftByEarlierRun(what: string, lab: Pick<ResolvedLab, 'name' | 'instance'>): string {
  return `${what}, left by an earlier run of this lab (a crash, or another LAB_HOME): remove them with "lab down ${labRef(lab)}"`;
}
