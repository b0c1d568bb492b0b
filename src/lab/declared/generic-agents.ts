/** The generic agents a declared `agent` step starts (agents/generic_*.py), and the arguments each accepts. */
import * as z from 'zod';
import { schemaKit } from './kit.js';

/** The generic agents (agents/generic_*.py); the arguments each accepts are in agentArgSchemas. */
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

export type AgentArgSchemas = ReturnType<typeof buildAgentArgs>;
let built: AgentArgSchemas | undefined;

/** Each agent's arguments, checked after a step's own schema (see steps/agent.ts); built on first use. */
export function agentArgSchemas(): AgentArgSchemas {
  return (built ??= buildAgentArgs());
}

function buildAgentArgs() {
  const { ipv4, port, seconds, payload } = schemaKit();
  const bytes = z
    .number()
    .int()
    .min(1, 'at least 1 byte')
    .max(2 ** 40, 'at most 1 TiB (1099511627776 bytes)');
  const seed = z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/, 'a seed of 1 to 32 letters, digits, "_", "." or "-"');
  const stallSeconds = z.number().min(0.1, 'a stall of at least 0.1 s').max(3600, 'a stall of at most 3600 s').default(5);
  const intervalSeconds = z.number().min(0.05, 'an interval of at least 0.05 s').max(60, 'an interval of at most 60 s').default(0.5);

  return {
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
}
