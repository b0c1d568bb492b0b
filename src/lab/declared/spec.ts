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
/** A tcpdump filter: words, addresses, numbers, brackets and comparisons; no shell characters, no token starting with "-" (an option). */
export const FILTER_TOKEN = /^(?!-)[A-Za-z0-9_.:/[\]=!()-]{1,64}$/;
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

export const STEP_KINDS = ['capture', 'agent', 'wait', 'run', 'snapshot', 'stop'] as const;
export type StepKind = (typeof STEP_KINDS)[number];
export const MEASURE_KINDS = ['packets', 'agent', 'conntrack', 'snapshot'] as const;
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
  const stepName = z.string().regex(STEP_NAME, 'a name: lowercase letters, digits and "-", starting with a letter');
  const nodeName = z.string().regex(NODE_NAME, 'a node name');
  const seconds = z.number().min(0).max(3600);
  const ipv4 = z.string().refine((s) => parseIp(s) !== undefined, 'an IPv4 address such as 10.0.1.2');
  const port = z.number().int().min(1).max(65535);
  const eventName = z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'an agent event name such as reply');

  const tcpdumpFilter = z
    .string()
    .min(1)
    .max(500)
    .refine(
      (s) =>
        s
          .trim()
          .split(/\s+/)
          .every((t) => FILTER_TOKEN.test(t)),
      'a tcpdump filter such as "udp and port 53" (letters, digits, ".", ":", "/", "[", "]", "=", "!", "(", ")"; no shell characters)',
    );

  const commandToken = z.preprocess(
    (v) => (typeof v === 'number' ? String(v) : v),
    z.string().regex(COMMAND_TOKEN, 'a command token without spaces or shell characters'),
  );
  const argv = z
    .array(commandToken)
    .min(1)
    .refine((a) => (RUN_COMMANDS as readonly string[]).includes(a[0]!), `a command starting with one of: ${RUN_COMMANDS.join(', ')}`)
    .refine((a) => !a.includes('netns'), 'a command that stays in its node ("netns" is not allowed)');

  const payload = z.string().regex(/^[A-Za-z0-9 _.:-]{1,64}$/, 'a payload pattern (letters, digits, " ", "_", ".", ":", "-")');

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
  } as const satisfies Record<StepKind, z.ZodType>;
  const measures = {
    packets: z.strictObject({ capture: stepName, filter: tcpdumpFilter.optional(), phase: stepName.optional() }),
    agent: z.union([
      z.strictObject({ name: stepName, counter: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,40}$/, "a counter of the agent's summary such as received") }),
      z.strictObject({ name: stepName, events: eventName, phase: stepName.optional() }),
    ]),
    conntrack: z.strictObject({
      node: nodeName,
      counter: z.string().regex(/^[a-z_]{1,40}$/, 'a conntrack -S counter such as invalid'),
      phase: stepName.optional(),
    }),
    snapshot: z.strictObject({ name: stepName, matches: z.string().min(1).max(200).refine(isRegex, 'a regular expression') }),
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

export interface VerdictRules {
  reproduced: Condition[];
  notReproduced: Condition[];
  /** Positive evidence that the application's traffic flowed: NOT_REPRODUCED needs it; each condition requires a count above 0. */
  healthy: Condition[];
  /** The application's failure in the lab's words ("replies never reach the client"): the verdict's outcome facet. */
  failure?: string;
  /** The mechanism behind the failure and the conditions that show it: corroboration, never the verdict. */
  mechanism?: { name: string; when: Condition[] };
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
