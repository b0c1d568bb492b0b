/** Ways real runs break, made from recorded artifacts: emptied, missing and foreign pcaps, corrupted agent summaries. */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import type { z } from 'zod';
import { readLines } from '../../../src/run/pcap.js';
import { parseSummary, type Parsed } from '../../../src/run/summary.js';
import type { Base, Perturbation } from './harness.js';

export const clone = <T>(x: T): T => structuredClone(x);

/** The same capture with no packet: its 24-byte global header only (link type kept), as tcpdump writes when nothing matched. */
export function emptyPcap(recorded: string, dir: string): string {
  const file = path.join(dir, `empty-${path.basename(recorded)}`);
  fs.writeFileSync(file, fs.readFileSync(recorded).subarray(0, 24));
  return file;
}

/** The same capture cut after its first `keep` packets, at a packet boundary: a file tcpdump reads without complaint. */
export function cutPcap(recorded: string, dir: string, keep: number): string {
  const data = fs.readFileSync(recorded);
  let at = 24;
  for (let n = 0; n < keep && at + 16 <= data.length; n++) at += 16 + data.readUInt32LE(at + 8);
  const file = path.join(dir, `cut-${path.basename(recorded)}`);
  fs.writeFileSync(file, data.subarray(0, at));
  return file;
}

export function foreignPcap(dir: string, name: string): string {
  const file = path.join(dir, `foreign-${name}`);
  fs.writeFileSync(file, 'not a pcap\n');
  return file;
}

export const missingPcap = (dir: string, name: string) => path.join(dir, 'gone', name);

/** The problem the capture reader records for a file it cannot read (from tcpdump itself, not a made-up text). */
export async function captureProblem(file: string): Promise<string> {
  const read = await readLines(file, 'tcp');
  if (read.ok) throw new Error(`internal: ${file} was expected to be unreadable`);
  return read.problem;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Paths to every value of a JSON object, nested objects included (not into arrays: their items are data). */
function paths(value: Json, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return prefix.length ? [prefix] : [];
  return [...(prefix.length ? [prefix] : []), ...Object.entries(value).flatMap(([k, v]) => paths(v, [...prefix, k]))];
}

const WRONG = ['delete', 'string', 'number', 'boolean', 'object', 'fraction'] as const;
type Wrong = (typeof WRONG)[number];

function wrongValue(how: Wrong): Json | undefined {
  return { delete: undefined, string: 'corrupt', number: -7, boolean: true, object: { corrupt: 1 }, fraction: 0.5 }[how];
}

function corrupt(raw: Json, at: string[], how: Wrong): Json {
  const copy = clone(raw) as { [key: string]: Json };
  let node = copy;
  for (const key of at.slice(0, -1)) node = node[key] as { [key: string]: Json };
  const last = at.at(-1)!;
  const value = wrongValue(how);
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

export interface Corruption {
  field: string;
  how: Wrong;
  raw: Json;
}

/**
 * Summaries with one field of the wrong type or missing, drawn by fast-check (fixed seed, so the cases are the same on
 * every run and each one is a test of its own); only those the agent's schema rejects are kept: a corruption the schema
 * accepts (a null where null is allowed) is no longer "unparsable".
 */
export function corruptions(summary: object, schema: z.ZodType, seed: number, count: number): Corruption[] {
  const raw = { event: 'summary', t: 0, ...summary } as Json;
  const fields = paths(raw).filter((p) => !(p.length === 1 && (p[0] === 'event' || p[0] === 't')));
  const drawn = fc.sample(fc.record({ at: fc.constantFrom(...fields), how: fc.constantFrom(...WRONG) }), { seed, numRuns: count * 20 });
  const kept = new Map<string, Corruption>();
  for (const { at, how } of drawn) {
    const field = at.join('.');
    const key = `${field}:${how}`;
    if (kept.size >= count || kept.has(key)) continue;
    const broken = corrupt(raw, at, how);
    if (!schema.safeParse(broken).success) kept.set(key, { field, how, raw: broken });
  }
  return [...kept.values()];
}

/** A pcap (little-endian, microseconds, as tcpdump writes here) with every packet's time moved by `seconds`: that node's clock off. */
export function shiftPcap(src: string, dst: string, seconds: number): void {
  const data = Buffer.from(fs.readFileSync(src));
  if (data.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`internal: ${src} is not a little-endian microsecond pcap`);
  const shiftUs = Math.round(seconds * 1e6);
  for (let at = 24; at + 16 <= data.length; at += 16 + data.readUInt32LE(at + 8)) {
    const us = data.readUInt32LE(at) * 1e6 + data.readUInt32LE(at + 4) + shiftUs;
    data.writeUInt32LE(Math.floor(us / 1e6), at);
    data.writeUInt32LE(us % 1e6, at + 4);
  }
  fs.writeFileSync(dst, data);
}

/** An agent's JSON-lines log with every event's time moved by `seconds`. */
export function shiftLog(src: string, dst: string, seconds: number): void {
  const lines = fs.readFileSync(src, 'utf8').split('\n');
  const moved = lines.map((l) => {
    if (!l.trim()) return l;
    const e = JSON.parse(l) as { t?: unknown };
    return typeof e.t === 'number' ? JSON.stringify({ ...e, t: e.t + seconds }) : l;
  });
  fs.writeFileSync(dst, moved.join('\n'));
}

/**
 * Random corruptions of the server's and the client's summaries, `count` per agent and variant, each re-parsed with the
 * agent's own schema, as the scenario would have parsed what the agent wrote (kind summary-unparsable).
 */
export function unparsableSummaries<E extends { server: Parsed<unknown>; client: Parsed<unknown> }>(
  bases: Array<Base<E>>,
  schemas: { server: z.ZodType; client: z.ZodType },
  seed: number,
  count: number,
): Array<Perturbation<E>> {
  return bases.flatMap((base, i) =>
    (['server', 'client'] as const).flatMap((agent) => {
      const parsed = base.evidence[agent];
      if (!parsed.ok) return [];
      return corruptions(parsed.value as object, schemas[agent], seed + i, count).map((c): Perturbation<E> => ({
        kind: 'summary-unparsable',
        name: `${agent} summary field ${c.field}: ${c.how}`,
        applies: (b) => b.variant === base.variant,
        apply: (b) => ({ ...clone(b.evidence), [agent]: parseSummary(agent, schemas[agent], c.raw as never) }),
      }));
    }),
  );
}
