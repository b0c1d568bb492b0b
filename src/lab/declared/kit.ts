/**
 * The pieces step, measure and agent schemas are built from: names, seconds, addresses, filters, commands. Built on
 * first use (see declaredSchemas in spec.ts): zod schemas take a noticeable share of a short command's start.
 */
import * as z from 'zod';
import { NODE_NAME } from '../names.js';
import { parseIp } from '../ip.js';

export const STEP_NAME = /^[a-z][a-z0-9-]{0,31}$/;
/** A tcpdump filter's text: one line of printable characters, not starting with "-" (which tcpdump would take for an option). */
// eslint-disable-next-line no-control-regex -- the control characters are what this refuses
export const FILTER_TEXT = /^(?!\s*-)[^\x00-\x1f\x7f]+$/;

export type SchemaKit = ReturnType<typeof buildKit>;
let built: SchemaKit | undefined;

export function schemaKit(): SchemaKit {
  return (built ??= buildKit());
}

function buildKit() {
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

  const payload = z.string().regex(/^[A-Za-z0-9 _.:-]{1,64}$/, 'a payload pattern of 1 to 64 characters: letters, digits, " ", "_", ".", ":", "-"');
  return { stepName, nodeName, seconds, ipv4, port, eventName, tcpdumpFilter, payload };
}
