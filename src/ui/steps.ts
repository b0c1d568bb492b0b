/**
 * A long piece of work as the user watches it: bringing a lab up (one step per stage), running its
 * variants (one step each). Whoever does the work returns steps; ui/progress.ts draws them.
 */
export interface Step {
  title: string;
  /**
   * `progress` shows the latest word from a long step (a VM's boot stage) under its title. A step may resolve to
   * the title it should keep once done (a variant and its verdict).
   */
  run: (progress: (text: string) => void) => Promise<void | string>;
  /** Parts shown side by side under the step while it runs (one per VM); each finishes on its own. */
  parts?: Step[];
}

/** Runs steps one after the other; the caller decides how they are shown (ui/progress.ts draws them with listr2). */
export type StepRunner = (steps: Step[]) => Promise<void>;
