/**
 * A declared scenario: steps (agents from the generic library, waits, commands, snapshots,
 * captures), optionally grouped in phases, and verdict rules over the evidence they collect.
 * These schemas check a scenario after its ${placeholders} are substituted (see substitute.ts).
 */
import * as z from 'zod';
import { IFACE_NAME, NODE_NAME } from '../names.js';
import { parseIp } from '../ip.js';

export const DECLARED_KIND = 'declared';

export const STEP_NAME = /^[a-z][a-z0-9-]{0,31}$/;
/** A tcpdump filter's text: one line of printable characters, not starting with "-" (which tcpdump would take for an option). */
// eslint-disable-next-line no-control-regex -- the control characters are what this refuses
export const FILTER_TEXT = /^(?!\s*-)[^\x00-\x1f\x7f]+$/;
/** Commands a `run` step may start on a node: network tools that act inside the node's namespace or host. */
export const RUN_COMMANDS = ['conntrack', 'ip', 'iptables', 'nft', 'ss', 'tc'] as const;
export const COMMAND_TOKEN = /^(!|[A-Za-z0-9_.:/,+=@%-]{1,128})$/;

/** The generic agents (agents/generic_*.py); the arguments each accepts are in declaredSchemas().agentArgs. */
export const GENERIC_AGENTS = {
  'udp-server': 'generic_udp_server.py',
  'udp-client': 'generic_udp_client.py',
  'tcp-server': 'generic_tcp_server.py',
  'tcp-client': 'generic_tcp_client.py',
  'tcp-injector': 'generic_tcp_injector.py',
  'conntrack-watcher': 'generic_conntrack_watcher.py',
  'tcp-bulk-server': 'generic_tcp_bulk_server.py',
  'tcp-bulk-client': 'generic_tcp_bulk_client.py',
  'udp-flood': 'generic_udp_flood.py',
  'udp-sink': 'generic_udp_sink.py',
  'tcp-flows': 'generic_tcp_flows.py',
} as const;
export type GenericAgentKind = keyof typeof GENERIC_AGENTS;

export const SNAPSHOTS = {
  conntrack: ['conntrack', '-L'],
  'conntrack-stats': ['conntrack', '-S'],
  ss: ['ss', '-tuanp'],
  iptables: ['iptables-save', '-c'],
  addresses: ['ip', '-o', 'address'],
  routes: ['ip', 'route'],
} as const;

export const STEP_KINDS = ['capture', 'agent', 'wait', 'run', 'snapshot', 'stop', 'container'] as const;
/** What a `container` step does to a container of a docker host, as `docker stop|start|restart` and `docker rm -f` + `docker run` would. */
export const CONTAINER_ACTIONS = ['stop', 'start', 'restart', 'replace'] as const;
export type ContainerAction = (typeof CONTAINER_ACTIONS)[number];
export type StepKind = (typeof STEP_KINDS)[number];
/** `measure` names a number a coded scenario computes from its evidence (Scenario.measures); declared labs have none. */
export const MEASURE_KINDS = ['packets', 'agent', 'conntrack', 'snapshot', 'measure'] as const;
export const SCENARIO_MEASURE_NAME = /^[a-z][A-Za-z0-9]{0,40}$/;
export type MeasureKind = (typeof MEASURE_KINDS)[number];

export type DeclaredSchemas = ReturnType<typeof buildSchemas>;
let built: DeclaredSchemas | undefined;
/** Built on first use: zod schemas take a noticeable share of a short command's start, and most labs declare nothing. */
export function declaredSchemas(): DeclaredSchemas {
  return (built ??= buildSchemas());
}

export type Step = {
  [K in StepKind]: { kind: K; spec: z.output<DeclaredSchemas['steps'][K]>; when?: Record<string, string | number | boolean>; skip?: true };
}[StepKind];
export interface Phase {
  phase: string;
  steps: Step[];
}
export type Measure = { [K in MeasureKind]: { kind: K; spec: z.output<DeclaredSchemas['measures'][K]>; as?: string } }[MeasureKind];

function buildSchemas() {
  const stepName = z.string().regex(STEP_NAME, 'a name of 1 to 32 lowercase letters, digits and "-", starting with a letter');
  const nodeName = z.string().regex(NODE_NAME, 'a node name');
  const seconds = z.number().min(0).max(3600);
  const ipv4 = z.string().refine((s) => parseIp(s) !== undefined, 'an IPv4 address such as 10.0.1.2');
  const port = z.number().int().min(1).max(65535);
  const eventName = z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'an agent event name of 1 to 32 lowercase letters, digits and "_", such as reply');

  // The whole pcap-filter language: it reaches tcpdump as one argument after "--", never through a shell, and
  // run/declarative/filters.ts has tcpdump compile it at lab validate and before a run.
  const tcpdumpFilter = z
    .string()
    .min(1, 'a tcpdump filter such as "udp and port 53"')
    .max(500, 'a tcpdump filter of at most 500 characters')
    .refine((s) => FILTER_TEXT.test(s), 'a tcpdump filter on one line (no control characters), not starting with "-", such as "udp and port 53"');

  const commandToken = z.preprocess(
    (v) => (typeof v === 'number' ? String(v) : v),
    z.string().regex(COMMAND_TOKEN, 'a command token of 1 to 128 characters, without spaces or shell characters'),
  );
  const argv = z
    .array(commandToken)
    .min(1)
    .refine((a) => (RUN_COMMANDS as readonly string[]).includes(a[0]!), `a command starting with one of: ${RUN_COMMANDS.join(', ')}`)
    .refine((a) => !a.includes('netns'), 'a command that stays in its node ("netns" is not allowed)');

  const payload = z.string().regex(/^[A-Za-z0-9 _.:-]{1,64}$/, 'a payload pattern of 1 to 64 characters: letters, digits, " ", "_", ".", ":", "-"');

  const bytes = z
    .number()
    .int()
    .min(1, 'at least 1 byte')
    .max(2 ** 40, 'at most 1 TiB (1099511627776 bytes)');
  const seed = z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/, 'a seed of 1 to 32 letters, digits, "_", "." or "-"');
  const stallSeconds = z.number().min(0.1, 'a stall of at least 0.1 s').max(3600, 'a stall of at most 3600 s').default(5);
  const intervalSeconds = z.number().min(0.05, 'an interval of at least 0.05 s').max(60, 'an interval of at most 60 s').default(0.5);

  const agentArgs = {
    'udp-server': z.strictObject({
      port,
      bind: ipv4.default('0.0.0.0'),
      reply: z.enum(['recvfrom', 'pktinfo', 'none']).default('recvfrom'),
      duration: seconds.default(60),
    }),
    'udp-client': z.strictObject({
      to: ipv4,
      port,
      count: z.number().int().min(1).max(100000).default(10),
      rate: z.number().min(0.1).max(10000).default(10),
      timeout: seconds.default(1),
      connected: z.boolean().default(false),
      sport: port.optional(),
      payload: payload.default('seq'),
    }),
    'tcp-server': z.strictObject({ port, bind: ipv4.default('0.0.0.0'), duration: seconds.default(60) }),
    'tcp-client': z.strictObject({
      to: ipv4,
      port,
      count: z.number().int().min(1).max(100000).default(10),
      rate: z.number().min(0.1).max(10000).default(10),
      timeout: seconds.default(1),
      payload: payload.default('seq'),
    }),
    'tcp-injector': z.strictObject({
      port,
      after: seconds.default(1),
      afterBytes: z
        .number()
        .int()
        .min(0)
        .max(2 ** 40, 'at most 1 TiB (1099511627776 bytes)')
        .default(0),
      offset: z
        .number()
        .int()
        .min(-(2 ** 31))
        .max(2 ** 31 - 1)
        .default(100000),
      length: z.number().int().min(0).max(1400).default(100),
      count: z.number().int().min(1).max(100).default(1),
      duration: seconds.default(60),
    }),
    'conntrack-watcher': z
      .strictObject({ proto: z.enum(['tcp', 'udp', 'icmp']).optional(), port: port.optional(), duration: seconds.default(60) })
      .refine((a) => !a.port || (a.proto && a.proto !== 'icmp'), 'a port needs proto tcp or udp'),
    'tcp-bulk-server': z.strictObject({
      port,
      bind: ipv4.default('0.0.0.0'),
      mode: z.enum(['send', 'receive']).default('send'),
      bytes,
      seed: seed.default('lab'),
      stall: stallSeconds,
      interval: intervalSeconds,
      connections: z.number().int().min(1, 'at least 1 connection').max(1000, 'at most 1000 connections').default(1),
      duration: seconds.default(60),
    }),
    'tcp-bulk-client': z.strictObject({
      to: ipv4,
      port,
      mode: z.enum(['receive', 'send']).default('receive'),
      bytes,
      seed: seed.default('lab'),
      stall: stallSeconds,
      interval: intervalSeconds,
      timeout: seconds.default(5),
    }),
    'udp-flood': z.strictObject({
      to: ipv4,
      port,
      rate: z.number().min(0.1, 'a rate of at least 0.1 datagram/s').max(100000, 'a rate of at most 100000 datagrams/s').default(100),
      duration: seconds.default(5),
      count: z.number().int().min(0).max(10_000_000, 'at most 10000000 datagrams').default(0),
      size: z.number().int().min(1, 'at least 1 byte').max(65507, 'at most 65507 bytes (the largest UDP payload over IPv4)').default(64),
      flows: z.number().int().min(1, 'at least 1 flow').max(1000, 'at most 1000 flows (one socket each)').default(1),
      sport: port.optional(),
      interval: intervalSeconds,
    }),
    'udp-sink': z.strictObject({ port, bind: ipv4.default('0.0.0.0'), duration: seconds.default(10), interval: intervalSeconds }),
    'tcp-flows': z.strictObject({
      to: ipv4,
      port,
      flows: z.number().int().min(1, 'at least 1 flow').max(10000, 'at most 10000 flows (one socket each)').default(10),
      rate: z.number().min(0.1, 'a rate of at least 0.1 flow/s').max(1000, 'a rate of at most 1000 flows/s').default(10),
      timeout: seconds.default(2),
      hold: seconds.default(1),
      sport: port.optional(),
      payload: payload.default('flow'),
    }),
  } as const satisfies Record<GenericAgentKind, z.ZodType>;

  const steps = {
    capture: z
      .strictObject({
        name: stepName,
        node: nodeName,
        iface: z.string().regex(IFACE_NAME, 'an interface name').optional(),
        toward: nodeName.optional(),
        filter: tcpdumpFilter.optional(),
      })
      .refine(
        (c) => Boolean(c.iface) !== Boolean(c.toward),
        'either iface (an interface of the node) or toward (the node at the other end of a link), not both',
      ),
    agent: z.strictObject({
      name: stepName,
      node: nodeName,
      run: z.enum(Object.keys(GENERIC_AGENTS) as [GenericAgentKind]),
      args: z.record(z.string(), z.unknown()).default({}),
      readyTimeout: seconds.default(15),
    }),
    wait: z.union([z.strictObject({ agent: stepName, event: eventName.default('summary'), timeout: seconds.default(60) }), z.strictObject({ seconds })]),
    run: z.strictObject({ node: nodeName, argv, undo: argv.optional(), mayFail: z.boolean().default(false) }),
    snapshot: z.strictObject({ name: stepName, node: nodeName, of: z.enum(Object.keys(SNAPSHOTS) as [keyof typeof SNAPSHOTS]) }),
    stop: z.union([z.strictObject({ agent: stepName }), z.strictObject({ capture: stepName })]),
    container: z
      .strictObject({
        node: nodeName,
        name: nodeName,
        do: z.enum(CONTAINER_ACTIONS),
        with: z
          .strictObject({
            name: z
              .string()
              .regex(/^[a-z][a-z0-9-]{1,31}$/, 'a container name of 2 to 32 lowercase letters, digits and "-", starting with a letter')
              .optional(),
            address: ipv4.optional(),
          })
          .optional(),
      })
      .refine((c) => c.do === 'replace' || c.with === undefined, 'with (a new name or address) only for do: replace'),
  } as const satisfies Record<StepKind, z.ZodType>;
  const measures = {
    packets: z.strictObject({ capture: stepName, filter: tcpdumpFilter.optional(), phase: stepName.optional() }),
    agent: z.union([
      z.strictObject({
        name: stepName,
        counter: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,40}$/, "a counter of the agent's summary (1 to 41 letters, digits and _) such as received"),
      }),
      z.strictObject({ name: stepName, events: eventName, phase: stepName.optional() }),
    ]),
    conntrack: z.strictObject({
      node: nodeName,
      counter: z.string().regex(/^[a-z_]{1,40}$/, 'a conntrack -S counter (1 to 40 lowercase letters and _) such as invalid'),
      phase: stepName.optional(),
    }),
    snapshot: z.strictObject({
      name: stepName,
      matches: z
        .string()
        .min(1, 'a regular expression of 1 to 200 characters')
        .max(200, 'a regular expression of at most 200 characters')
        .refine(isRegex, 'a regular expression'),
    }),
    measure: z.string().regex(SCENARIO_MEASURE_NAME, "the name of a number the lab's coded scenario computes, such as clientReset"),
  } as const satisfies Record<MeasureKind, z.ZodType>;
  return { agentArgs, steps, measures };
}

export const COMPARATORS = { atLeast: '>=', atMost: '<=', equals: '=', below: '<', above: '>' } as const;
export type Comparator = keyof typeof COMPARATORS;
export interface Condition {
  measure: Measure;
  op: Comparator;
  than: number | Measure;
}

/**
 * Holds when any of its rules holds: `{ anyOf: [rule, ...] }`; `{ allOf: [rule, ...] }` when every one does (an
 * alternative of several conditions). In reproduced, notReproduced.when and mechanism.when, never in healthy.
 */
export interface AnyOf {
  anyOf: Rule[];
}
export interface AllOf {
  allOf: Rule[];
}
export type Rule = Condition | AnyOf | AllOf;

/** The alternatives of anyOf or the parts of allOf; undefined for a plain condition. */
export function ruleParts(r: Rule): { key: 'anyOf' | 'allOf'; parts: Rule[] } | undefined {
  if ('anyOf' in r) return { key: 'anyOf', parts: r.anyOf };
  if ('allOf' in r) return { key: 'allOf', parts: r.allOf };
  return undefined;
}

/** The plain conditions of a list of rules, anyOf and allOf flattened. */
export function plainConditions(rules: Rule[]): Condition[] {
  return rules.flatMap((r) => {
    const group = ruleParts(r);
    return group ? plainConditions(group.parts) : [r as Condition];
  });
}

/** Every plain condition with its path into the lab file, below `base`. */
export function conditionsAt(rules: Rule[], base: ReadonlyArray<string | number>): Array<[Condition, Array<string | number>]> {
  return rules.flatMap((r, i) => {
    const group = ruleParts(r);
    return group ? conditionsAt(group.parts, [...base, i, group.key]) : [[r as Condition, [...base, i]] as [Condition, Array<string | number>]];
  });
}

export interface VerdictRules {
  reproduced: Rule[];
  notReproduced: Rule[];
  /** Positive evidence that the application's traffic flowed: NOT_REPRODUCED needs it; each condition requires a count above 0. */
  healthy: Condition[];
  /** The application's failure in the lab's words ("replies never reach the client"): the verdict's outcome facet. */
  failure?: string;
  /** The mechanism behind the failure and the conditions that show it: corroboration, never the verdict. */
  mechanism?: { name: string; when: Rule[] };
  /** Cases the lab says it cannot decide: when every condition holds, INCONCLUSIVE of that kind, before the other rules. */
  inconclusive?: StatedInconclusive[];
}

/** The kinds of INCONCLUSIVE a lab file may state (an error is never stated: it is what happened to a run). */
export const STATED_INCONCLUSIVE_KINDS = ['emulation-gap', 'evidence-missing', 'evidence-conflict'] as const;
export interface StatedInconclusive {
  kind: (typeof STATED_INCONCLUSIVE_KINDS)[number];
  /** Why the lab cannot decide then, in words ("Docker Desktop's own forwarder is not run here"). */
  because: string;
  when: Rule[];
}

/** Comparisons a healthy condition may use against a number, and the smallest number each accepts: all require a count above 0. */
export const HEALTHY_MINIMUM: Partial<Record<Comparator, { min: number; strict: boolean }>> = {
  atLeast: { min: 0, strict: true },
  equals: { min: 0, strict: true },
  above: { min: 0, strict: false },
};

export interface DeclaredScenario {
  steps: Array<Step | Phase>;
  verdict: VerdictRules;
}

function isRegex(s: string): boolean {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}
