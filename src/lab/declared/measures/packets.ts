/**
 * `packets: { capture, filter?, phase?, after? }`: packets of a capture, matching a filter, within a phase, and from an
 * agent's first event of a name on (`after: { agent, event }`: the moment a node did something, in its own clock, where
 * a phase starts when the controller began the step, seconds earlier on a slow node).
 */
import * as z from 'zod';
import { measureKind } from '../kind.js';
import { undeclaredName } from '../agents.js';
import type { GenericAgentKind } from '../generic-agents.js';

export const packets = measureKind({
  schema: (k) =>
    z.strictObject({
      capture: k.stepName,
      filter: k.tcpdumpFilter.optional(),
      phase: k.stepName.optional(),
      after: z.strictObject({ agent: k.stepName, event: k.eventName }).optional(),
    }),
  check(spec, c, at) {
    c.known('capture', spec.capture, 'a capture', [...at, 'capture']);
    if (!spec.after) return;
    c.known('agent', spec.after.agent, 'an agent', [...at, 'after', 'agent']);
    const kind = c.data('agent', spec.after.agent) as GenericAgentKind | undefined;
    const why = kind && undeclaredName(kind, 'events', spec.after.event);
    if (why) c.problem([...at, 'after', 'event'], why);
  },
  label: (s, inPhase) =>
    `packets${s.filter ? ` matching "${s.filter}"` : ''} at ${s.capture}${inPhase}${s.after ? ` after ${s.after.agent}'s first "${s.after.event}"` : ''}`,
  async measure(s, ev) {
    const node = ev.rec.captures[s.capture]?.node;
    const window = ev.window(node);
    if (window && 'missing' in window) return { value: null, missing: window.missing };
    if (!s.after) return ev.countPackets(s.capture, s.filter, window);
    const from = ev.eventTime(s.after.agent, s.after.event, node);
    if ('missing' in from) return { value: null, missing: from.missing };
    const name = `after ${s.after.agent}'s ${s.after.event}`;
    const after = window ? { ...window, start: Math.max(window.start, from.t) } : { name, start: from.t, end: Infinity };
    return ev.countPackets(s.capture, s.filter, after);
  },
  filters: (s) => (s.filter ? [s.filter] : []),
});
