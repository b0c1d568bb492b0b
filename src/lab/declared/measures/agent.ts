/** `agent: { name, counter }`: a number of an agent's summary; `agent: { name, events, phase? }`: its events of a name. */
import * as z from 'zod';
import { measureKind } from '../kind.js';
import { undeclaredName } from '../agents.js';
import type { GenericAgentKind } from '../generic-agents.js';

export const agent = measureKind({
  schema: (k) =>
    z.union([
      z.strictObject({
        name: k.stepName,
        counter: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,40}$/, "a counter of the agent's summary (1 to 41 letters, digits and _) such as received"),
      }),
      z.strictObject({ name: k.stepName, events: k.eventName, phase: k.stepName.optional() }),
    ]),
  check(spec, c, at) {
    c.known('agent', spec.name, 'an agent', [...at, 'name']);
    const kind = c.data('agent', spec.name) as GenericAgentKind | undefined;
    const [what, name] = 'counter' in spec ? (['counter', spec.counter] as const) : (['events', spec.events] as const);
    const why = kind && undeclaredName(kind, what, name);
    if (why) c.problem([...at, what], why);
  },
  label: (s, inPhase) => ('counter' in s ? `${s.name} ${s.counter}` : `"${s.events}" events of ${s.name}${inPhase}`),
  measure(s, ev) {
    const agent = ev.rec.agents[s.name];
    if (!agent) return { value: null, missing: `agent ${s.name} did not run` };
    if (!agent.summary) return { value: null, missing: `agent ${s.name} wrote no summary` };
    if ('counter' in s) {
      const v = agent.summary[s.counter];
      if (typeof v === 'number') return { value: v };
      if (Array.isArray(v)) return { value: v.length };
      return { value: null, missing: `agent ${s.name}'s summary has no counter ${s.counter}` };
    }
    const events = ev.readEvents(agent.log);
    if (!events) return { value: null, missing: `the log of agent ${s.name} is unreadable` };
    const window = ev.window(agent.node);
    if (window && 'missing' in window) return { value: null, missing: window.missing };
    return { value: events.filter((e) => e.event === s.events && ev.inWindow(e.t, window)).length };
  },
});
