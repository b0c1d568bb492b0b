/** moby-15127-declared: the declared perturbations of every recorded variant, and the client and docker0's capture telling different stories. */
import type { Perturbation } from './harness.js';
import { declaredSubject, inCopy, type DeclaredRun } from './declared.js';

const LAB = 'moby-15127-declared';

const client = (run: DeclaredRun) => run.evidence.recorded.agents.client?.summary as { sent: number; received: number } | null | undefined;

const stories: Array<Perturbation<DeclaredRun>> = [
  {
    kind: 'agent-capture-disagree',
    name: 'the client got every reply while docker0 shows them from the wrong source',
    applies: (b) => b.stored === 'REPRODUCED' && Boolean(client(b.evidence)),
    apply: (b, s) => inCopy(b, s, (r) => void (r.agents.client!.summary!.received = client(b.evidence)!.sent)),
  },
  {
    kind: 'agent-capture-disagree',
    name: 'the client got no reply while docker0 shows every reply from the right source',
    applies: (b) => b.stored === 'NOT_REPRODUCED' && Boolean(client(b.evidence)),
    apply: (b, s) => inCopy(b, s, (r) => void (r.agents.client!.summary!.received = 0)),
  },
];

export const moby15127Declared = declaredSubject(LAB, stories);
