/** `conntrack: { node, counter, phase? }`: how much a `conntrack -S` counter of a node grew over the run or a phase. */
import * as z from 'zod';
import { measureKind } from '../kind.js';

export const conntrack = measureKind({
  schema: (k) =>
    z.strictObject({
      node: k.nodeName,
      counter: z.string().regex(/^[a-z_]{1,40}$/, 'a conntrack -S counter (1 to 40 lowercase letters and _) such as invalid'),
      phase: k.stepName.optional(),
    }),
  check(spec, c, at) {
    c.node(spec.node, [...at, 'node']);
  },
  label: (s, inPhase) => `conntrack ${s.counter} (change on ${s.node}${inPhase})`,
  measure(s, ev) {
    const points = ev.phase ? [`${ev.phase.name}:start`, `${ev.phase.name}:end`] : ['start', 'end'];
    const [before, after] = points.map((p) => ev.rec.conntrack[s.node]?.[p]?.[s.counter]);
    if (before === undefined || after === undefined) {
      return { value: null, missing: `no conntrack -S ${s.counter} on ${s.node} at ${points.join(' and ')}` };
    }
    return { value: after - before };
  },
  conntrackNode: (s) => s.node,
});
