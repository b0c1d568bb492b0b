/** `wait: { agent, event, timeout }` for an agent's event, or `wait: { seconds }`. */
import * as z from 'zod';
import { LabError } from '../../../errors.js';
import { stepKind } from '../kind.js';

export const wait = stepKind({
  schema: (k) =>
    z.union([
      z.strictObject({ agent: k.stepName, event: k.eventName.default('summary'), timeout: k.seconds.default(60) }),
      z.strictObject({ seconds: k.seconds }),
    ]),
  check(spec, c, at) {
    if ('agent' in spec) c.known('agent', spec.agent, 'an agent', [...at, 'agent']);
  },
  async execute(s, rt) {
    if ('seconds' in s) return void (await new Promise((r) => setTimeout(r, s.seconds * 1000)));
    const agent = rt.agent(s.agent);
    if (!agent) throw new LabError(`wait: agent "${s.agent}" was not started`);
    try {
      await agent.waitFor(s.event, s.timeout * 1000);
    } catch (e) {
      if (!(e instanceof LabError)) throw e;
      (rt.rec.timeouts ??= []).push(e.message);
    }
  },
});
