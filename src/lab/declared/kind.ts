/**
 * The shape of a declared step kind and of a measure kind: one module each (steps/<kind>.ts, measures/<kind>.ts) holds
 * its schema, its cross-check and what it does or counts, and one line of steps/index.ts or measures/index.ts registers
 * it. Running and measuring need the live lab and the run's files, which sit in run/ (a layer above this one): a kind
 * reaches them only through the StepRuntime and MeasureEvidence interfaces below, which run/declarative implements.
 */
import type * as z from 'zod';
import type { Path } from '../problems.js';
import type { SchemaKit } from './kit.js';
import type { PhaseWindow, Recorded } from './recorded.js';

/** What the topology offers: node and container names, and which nodes share a link. */
export interface DeclaredTopology {
  nodes: string[];
  linked: Array<[string, string]>;
  /** ${<node>.address} values: real addresses at run time, a documentation address at validation. */
  addresses: Record<string, string>;
  /** Docker hosts by node: their containers, bridge subnet and the addresses in use on it (absent where the lab is not resolved). */
  docker?: Record<string, DockerHostTopology>;
}

export interface DockerHostTopology {
  containers: string[];
  subnet: string;
  /** The bridge's gateway and every container's address. */
  taken: string[];
}

/** Cross-checks of one variant's scenario, in the order its steps are written, then its rules' measures. */
export interface CheckContext {
  readonly topo: DeclaredTopology;
  problem(path: Path, message: string): void;
  /** The name is a node or container of the lab. */
  node(name: string, path: Path): void;
  /** Declares a name in a space ("capture", "agent", ...) that later steps and measures refer to; twice is a problem. */
  declare(space: string, name: string, path: Path, data?: unknown): void;
  /** The name was declared in the space by an earlier step; `what` names it in the message ("an agent"). */
  known(space: string, name: string, what: string, path: Path): void;
  /** What was declared with the name, if anything. */
  data(space: string, name: string): unknown;
  /** State a kind keeps across the steps of one check, made by `init` on first use. */
  state<T>(key: string, init: () => T): T;
}

export type ParseWith = <T extends z.ZodType>(schema: T, value: unknown, path: Path) => z.output<T> | undefined;

export interface StepKind<S extends z.ZodType = z.ZodType> {
  schema(kit: SchemaKit): S;
  /** A closer schema for editors' JSON schema, when checks past `schema` (parse) narrow it. */
  editorSchema?(kit: SchemaKit): z.ZodType;
  /** Checks past the schema that need only the step itself (an agent's arguments); undefined when it fails. */
  parse?(spec: z.output<S>, parseWith: ParseWith, at: Path): z.output<S> | undefined;
  /** Names used before they exist, nodes that are not in the lab, duplicate names. */
  check(spec: z.output<S>, c: CheckContext, at: Path): void;
  execute(spec: z.output<S>, rt: StepRuntime): Promise<void>;
  /** The tcpdump filters the step uses, compiled before a run. */
  filters?(spec: z.output<S>): string[];
  /** The node whose clock the step's timestamps carry (captures, agents). */
  clockNode?(spec: z.output<S>): string;
}

export type MeasureResult = { value: number } | { value: null; missing: string };

/** A spec's optional `phase` field means the same for every kind: checked against the phases, given as `ev.phase`. */
export interface MeasureKind<S extends z.ZodType = z.ZodType> {
  schema(kit: SchemaKit): S;
  check(spec: z.output<S>, c: CheckContext, at: Path): void;
  /** What the number counts, for reasons and reports; `inPhase` is " in phase <name>" or "". */
  label(spec: z.output<S>, inPhase: string): string;
  measure(spec: z.output<S>, ev: MeasureEvidence): Promise<MeasureResult> | MeasureResult;
  filters?(spec: z.output<S>): string[];
  /** The node whose conntrack -S the run must read at its phase boundaries. */
  conntrackNode?(spec: z.output<S>): string;
}

/** Typed by the schema it returns: a kind's other functions get that schema's output. */
export function stepKind<S extends z.ZodType>(kind: StepKind<S>): StepKind<S> {
  return kind;
}

export function measureKind<S extends z.ZodType>(kind: MeasureKind<S>): MeasureKind<S> {
  return kind;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A running agent, as a wait step needs it. */
export interface RunningAgent {
  waitFor(event: string, timeoutMs: number): Promise<unknown>;
}

export interface ContainerRequest {
  host: string;
  container: string;
  action: 'stop' | 'start' | 'restart' | 'replace';
  with?: { name?: string; address?: string };
}

/** What steps act through on a live lab (run/declarative/steps.ts implements it over the ScenarioContext). */
export interface StepRuntime {
  readonly rec: Recorded;
  exec(node: string, argv: string[]): Promise<ExecResult>;
  /** The node's interface on the link to `toward`. */
  interfaceToward(node: string, toward: string): string;
  startCapture(node: string, iface: string, name: string, filter: string[]): Promise<void>;
  /** Whether a capture of that name is running. */
  capturing(name: string): boolean;
  stopCapture(name: string): Promise<void>;
  startAgent(node: string, name: string, agentFile: string, args: string[], readyTimeoutMs: number): Promise<void>;
  agent(name: string): RunningAgent | undefined;
  stopAgent(name: string): Promise<void>;
  /** Writes a file into the variant's folder; returns its path relative to the run's folder. */
  writeArtifact(name: string, content: string): string;
  container(request: ContainerRequest): Promise<{ done: string[]; name: string; address: string; running: boolean }>;
  restoreContainers(): Promise<string[]>;
  /** Runs after the last step, last registered first, also when a step fails. */
  onUndo(undo: () => Promise<void>): void;
  /** True the first time it is asked for a key in a run. */
  first(key: string): boolean;
}

/** What a measure reads, from the run's saved artifacts only. */
export interface MeasureEvidence {
  readonly rec: Recorded;
  /** The measure's phase, when it names one (and the phase completed). */
  readonly phase?: PhaseWindow;
  /** The phase in a node's clock: undefined without a phase, missing when the node's clock is unknown. */
  window(node: string | undefined): PhaseWindow | { missing: string } | undefined;
  inWindow(t: number, window: PhaseWindow | undefined): boolean;
  countPackets(capture: string, filter: string | undefined, window: PhaseWindow | undefined): Promise<MeasureResult>;
  /** A file of the run, by its path relative to the run's folder; undefined when unreadable. */
  readText(file: string): string | undefined;
  readEvents(file: string): Array<{ event: string; t: number }> | undefined;
  /** When an agent first logged an event, in a node's clock (the agent's node's clock shifted by both measured offsets). */
  eventTime(agent: string, event: string, node: string | undefined): { t: number } | { missing: string };
}
