/** labs/<lab>/exercise.yaml: guided steps, each with a goal, hints and a check the tool runs on the live lab. */
import * as z from 'zod';

const nodeName = z.string().regex(/^[a-z][a-z0-9-]{0,11}$/, 'a node name');
const token = z.string().regex(/^[A-Za-z0-9_.:/,+=@%-]{1,64}$/, 'a command word without shell characters');

export const checkSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('verdict'),
    /** Run the scenario once on the lab as the student left it, with this variant's parameters but none of its changes. */
    variant: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/),
    expect: z.enum(['REPRODUCED', 'NOT_REPRODUCED']),
  }),
  z.strictObject({
    kind: z.literal('command'),
    node: nodeName,
    argv: z.array(token).min(1),
    match: z.string().min(1),
    because: z.string().min(1),
  }),
  z.strictObject({
    kind: z.literal('pcap'),
    /** A capture the student saved; {id} is replaced by the lab's id (name or name+instance). */
    path: z.string().regex(/^\/[A-Za-z0-9_.+{}/-]+\.pcap$/, 'an absolute path to a .pcap file'),
    filter: z.string().regex(/^[A-Za-z0-9 _.:/[\]&!=<>|()-]+$/, 'a tcpdump filter'),
    atLeast: z.number().int().min(1).default(1),
    because: z.string().min(1),
  }),
]);

export const exerciseSchema = z.strictObject({
  title: z.string().min(1),
  intro: z.string().min(1),
  steps: z
    .array(
      z.strictObject({
        id: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/),
        goal: z.string().min(1),
        hints: z.array(z.string().min(1)).default([]),
        check: checkSchema,
      }),
    )
    .min(1),
});

export type Exercise = z.output<typeof exerciseSchema>;
export type Check = z.output<typeof checkSchema>;
