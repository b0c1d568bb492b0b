/**
 * One interface for every provider. A provider turns a resolved lab into running nodes,
 * gives a transport per node, and removes everything it created, from its state alone.
 */
import type { ResolvedLab } from '../lab/model.js';
import type { Transport } from '../transport/types.js';

export interface Step {
  title: string;
  /** `progress` shows the latest word from a long step (a VM's boot stage) under its title. */
  run: (progress: (text: string) => void) => Promise<void>;
  /** Parts shown side by side under the step while it runs (one per VM); each finishes on its own. */
  parts?: Step[];
}

export interface LabState {
  /** The lab's id: its name, or name+instance. */
  lab: string;
  name: string;
  instance?: string;
  file: string;
  provider: string;
  status: 'creating' | 'up';
  createdAt: string;
  /** Provider-specific record of what was created, enough for `down` after a crash. */
  resources: Record<string, unknown>;
}

export interface DownResult {
  removed: string[];
}

export interface Provider {
  readonly name: string;
  /** True when the provider created the hosts (netns, vagrant): the run may reset their conntrack tables between variants. */
  readonly ownsHosts: boolean;
  /** Problems that prevent this provider from running here (missing tools, no root), all at once. */
  preflight(lab: ResolvedLab): Promise<string[]>;
  upSteps(lab: ResolvedLab): Step[];
  down(labId: string, state: LabState | undefined): Promise<DownResult>;
  transport(lab: ResolvedLab, node: string): Transport;
  /** The lab as this provider's hosts see it (a VM's devices have their own names); the lab itself otherwise. */
  localize?(lab: ResolvedLab): ResolvedLab;
  /** Release connections (ssh) so the process can end. */
  close?(): void;
  /** Free-form facts for `lab status`. */
  describe(state: LabState): Promise<string[]>;
}
