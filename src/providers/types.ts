/**
 * One interface for every provider. A provider turns a resolved lab into running nodes,
 * gives a transport per node, and removes everything it created, from its state alone.
 * Each provider folder exports one ProviderDescriptor; providers/registry.ts lists them.
 * `R` is what the provider records in the lab's state (LabState.resources), never cast: a type alias (an interface has no
 * implicit index signature, so it would not fit the registry's list beside the others).
 */
import type { ResolvedLab } from '../lab/model.js';
import type { SysctlScope } from '../lab/sysctl-policy.js';
import type { SettingsDeclaration } from '../lab/provider-settings.js';
import type { LabState } from '../state.js';
import type { Transport } from '../transport/types.js';
import type { Duplex } from 'node:stream';
import type { Step } from '../ui/steps.js';

export interface DownResult {
  removed: string[];
}

/** Adds to the lab's recorded resources; a step calls it before it creates what it records. */
export type RecordResources<R> = (patch: Partial<R>) => void;

export interface Provider<R = Record<string, unknown>> {
  readonly name: string;
  /** True when the provider created the hosts (netns, vagrant): the run may reset their conntrack tables between variants. */
  readonly ownsHosts: boolean;
  /** Problems that prevent this provider from running here (missing tools, no root), all at once. */
  preflight(lab: ResolvedLab): Promise<string[]>;
  /**
   * What `down` needs before anything is created. lifecycle.ts records it (status creating) before the first of
   * upSteps and marks the lab up after the last: the steps only build, and add to the record as they go.
   */
  resourcesOf(lab: ResolvedLab): R;
  upSteps(lab: ResolvedLab, record: RecordResources<R>): Step[];
  /** Removes the lab from its state alone (never its lab file); without a state, whatever carries the lab's names. */
  down(labId: string, state: LabState<R> | undefined): Promise<DownResult>;
  transport(lab: ResolvedLab, node: string): Transport;
  /** The lab as this provider's hosts see it (a VM's devices have their own names); the lab itself otherwise. */
  localize?(lab: ResolvedLab): ResolvedLab;
  /** Release connections (ssh) so the process can end. */
  close?(): void;
  /** Which Docker engine the lab's docker hosts run ("emulated", or a real dockerd and its version); undefined without one. */
  engine?(lab: ResolvedLab): string | undefined;
  /** The engine each docker host of an up lab runs, by node ("26.1", "existing"); a node absent runs the imitation. */
  enginesRunning?(state: LabState<R>): Record<string, string>;
  /** Says so when a real Docker daemon of the lab is no longer running (killed, crashed); undefined while all run. */
  engineLost?(lab: ResolvedLab): Promise<string | undefined>;
  /**
   * A declared `container` step on a docker host: the real engine's own commands, or on the imitation what dockerd does to
   * its rules and processes. `restore` puts every container of the lab back as it was brought up (a variant's end).
   */
  container?(lab: ResolvedLab, request: ContainerRequest): Promise<ContainerOutcome>;
  restoreContainers?(lab: ResolvedLab): Promise<string[]>;
  /** Free-form facts for `lab status`. */
  describe(state: LabState<R>): Promise<string[]>;
  /** `lab ssh`: a login on a node (a machine of the lab), as `ssh host [command]` gives one. */
  ssh?(lab: ResolvedLab, node: string): SshLogin;
  /** `lab ssh --proxy`: a byte stream to the node's sshd, for OpenSSH's ProxyCommand (from the state alone). */
  sshProxy?(labId: string, node: string): Promise<Duplex>;
  /** `lab ssh --config`: an OpenSSH config block per machine (or only `node`'s); `proxy` is the ProxyCommand that reaches a node. */
  sshConfig?(state: LabState<R>, proxy: (node: string) => string, node?: string): string;
}

/** A login session on a node: its shell, or one command line run by it; resolves to the exit status. */
export interface SshLogin {
  interactive(commandLine?: string): Promise<number>;
  close(): void;
}

/** A command-line option of a provider (a subset of yargs' options). */
export interface ProviderOption {
  type: 'string' | 'boolean' | 'number';
  /** Starts with the provider's name: every command that takes a provider shows the options of all of them. */
  describe: string;
  default?: string | boolean | number;
}

/** The values the command line gave, by option name (camelCase as yargs passes them). */
export type ProviderArgs = Readonly<Record<string, unknown>>;

/** What a provider can do beyond bringing a lab up: the commands ask for these, never for a provider's name. */
export interface ProviderCapabilities {
  /** Runs labs inside QEMU guests of other kernels than this machine's (--kernel). */
  readonly otherKernels: boolean;
  /** Brings up independent copies of a lab at once, beside each other (lab run's variants at once). */
  readonly variantCopies: boolean;
  /** Gives each node a kernel of its own (a lab whose nodes' kernels differ); without it every node runs one kernel. */
  readonly kernelPerNode: boolean;
}

/**
 * What the registry knows of a provider. Its module must stay light (types and dynamic imports only):
 * every command's --help reads the options, and the provider's code loads only when a command uses it.
 */
export interface ProviderDescriptor<R = Record<string, unknown>> {
  readonly name: string;
  /** Which sysctls a lab file may set on this provider's nodes (lab/sysctl-policy.ts). */
  readonly sysctls: SysctlScope;
  /** Its own section of a lab file, under its name (lab/provider-settings.ts); the lab file has none without it. */
  readonly settings?: SettingsDeclaration;
  /** Options of `lab up`, `lab run` and the other commands that bring a lab up. */
  readonly options: Readonly<Record<string, ProviderOption>>;
  readonly capabilities: ProviderCapabilities;
  /**
   * Whether `lab ssh` finds an sshd on its machines: always (they run one), opt-in (with `lab up --ssh`, the option it
   * declares), or none, with the reason `lab up --ssh` is refused for (as "netns nodes are namespaces of this machine").
   */
  readonly sshd: 'always' | 'opt-in' | { readonly none: string };
  /** The provider configured from the command line; a bad value is a LabError. */
  create(args: ProviderArgs): Promise<Provider<R>>;
  /** The provider a lab was brought up with, configured as it was then (from its state alone). */
  fromState(state: LabState<R>): Promise<Provider<R>>;
  /** `lab up --dry-run`: what would be done, as text, changing nothing. */
  plan?(lab: ResolvedLab, args: ProviderArgs): Promise<string>;
  /** `lab render`: writes what the provider builds the lab from into a folder, without building it. */
  render?: {
    readonly options: Readonly<Record<string, ProviderOption>>;
    write(lab: ResolvedLab, args: ProviderArgs, outDir: string): Promise<{ files: string[]; next: string }>;
  };
  /** `lab down` when the state is gone: removes whatever carries the lab's names, and says what it removed. */
  leftovers?(labId: string): Promise<string[]>;
}

export interface ContainerRequest {
  host: string;
  /** The lab's node name of the container (its namespace keeps this name across a replacement). */
  container: string;
  action: 'stop' | 'start' | 'restart' | 'replace';
  with?: { name?: string; address?: string };
}

export interface ContainerOutcome {
  /** What was done, one command or action a line, for the run's record. */
  done: string[];
  /** The container's Docker name and address afterwards, and whether it runs. */
  name: string;
  address: string;
  running: boolean;
}
