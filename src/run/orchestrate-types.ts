/** What a run is asked to do (RunRequest), what it is given to do it with (RunEnvironment) and what it gives back per target. */
import type { ResolvedLab } from '../lab/model.js';
import type { KernelChoice } from '../lab/node-kernels.js';
import type { Provider } from '../providers/types.js';
import type { StepRunner } from '../ui/steps.js';
import type { ExpectationCheck } from './expect.js';
import type { RunResult, VariantResult } from './run-lab.js';

/**
 * One place the lab runs: a kernel (a Debian series booted under QEMU; undefined is this machine's own). A run goes
 * through its targets one after the other, each opened, brought up, run and reported the same way; another dimension
 * (an engine version, a node's kernel) is another field here, filled in by the command and read by its `open`.
 */
export interface RunTarget {
  /** Every node's kernel: kernels.lab, undefined for this machine's own (also when only single nodes are named). */
  kernel?: string;
  /** The command line's kernels for this target (--kernel 5.10, --kernel client=6.1); absent: the lab file's. */
  kernels?: KernelChoice;
  /** --docker: the Docker engine of the lab's docker hosts (20.10, 26.1, host, emulated); undefined is each node's own. */
  docker?: string;
}

/** Whether a run passes (the exit status): see `passes` in orchestrate.ts. */
export interface RunPolicy {
  /** Every verdict must match the lab file's expectation for the run's kernel, not only be decided (--check). */
  check: boolean;
  /** With check: a decided verdict nothing is expected of on this kernel passes (--allow-unchecked). */
  allowUnchecked?: boolean;
}

export interface RunRequest {
  targets: RunTarget[];
  /** The lab and its provider for one target (lab file, --provider, --instance, the target's kernel). */
  open(target: RunTarget): Promise<{ lab: ResolvedLab; provider: Provider }>;
  /** Only these variants, in this order (all of the lab's without). */
  variants?: string[] | undefined;
  /** Leave the lab up afterwards when the run brought it up. */
  keep: boolean;
  serial: boolean;
  /** Copies also when the lab is already up. */
  concurrent: boolean;
  /** Results go to <resultsRoot>/<lab id>/<run id> (default ./results or LAB_RESULTS). */
  resultsRoot?: string | undefined;
  policy: RunPolicy;
}

/** lifecycle.ts, which sits above this layer: the command passes the module itself. */
export interface Lifecycle {
  labUp(lab: ResolvedLab, provider: Provider, options?: { quiet?: boolean }): Promise<void>;
  labDown(labId: string, options?: { quiet?: boolean }): Promise<unknown>;
  withCleanupOnInterrupt<T>(cleanup: () => Promise<unknown>, fn: () => Promise<T>): Promise<T>;
}

export interface ReportFiles {
  markdown: string;
  html: string;
}

export interface RunEnvironment {
  /** No progress or lifecycle output (--json). */
  quiet: boolean;
  /** Draws the variants' steps (the CLI: ui/progress.ts). */
  runSteps: StepRunner;
  lifecycle: Lifecycle;
  /** Writes a finished run's reports (the CLI: report/write.ts); without it, only each variant's evidence.json is written. */
  publish?(lab: ResolvedLab, run: RunResult): Promise<ReportFiles>;
  /** Called as each target is done, before the next starts (the CLI prints its verdicts then). */
  onTarget?(outcome: TargetOutcome): void;
}

/** A run with every variant held against its expectation. */
export type CheckedRun = RunResult & { variants: Array<VariantResult & ExpectationCheck> };

export interface TargetOutcome {
  target: RunTarget;
  lab: ResolvedLab;
  run: CheckedRun;
  reports?: ReportFiles;
  passes: boolean;
  /** With --check: why it failed, a line per variant (empty when it passed). */
  checkFailures: string[];
}
