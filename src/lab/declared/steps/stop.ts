/** `stop: { agent }` asks an agent to stop (it writes its summary); `stop: { capture }` ends a capture. */
import * as z from 'zod';
import { LabError } from '../../../errors.js';
import { stepKind } from '../kind.js';

export const stop = stepKind({
  schema: (k) => z.union([z.strictObject({ agent: k.stepName }), z.strictObject({ capture: k.stepName })]),
  check(spec, c, at) {
    if ('agent' in spec) c.known('agent', spec.agent, 'an agent', [...at, 'agent']);
    else c.known('capture', spec.capture, 'a capture', [...at, 'capture']);
  },
  async execute(s, rt) {
    if ('agent' in s) {
      if (!rt.agent(s.agent)) throw new LabError(`stop: agent "${s.agent}" was not started`);
      await rt.stopAgent(s.agent);
    } else {
      if (!rt.capturing(s.capture)) throw new LabError(`stop: capture "${s.capture}" is not running`);
      await rt.stopCapture(s.capture);
    }
  },
});
