/**
 * udp-stale-dnat: the declared perturbations of every recorded variant, the new backend's log and the capture toward it
 * telling different stories, and the mayFail conntrack flush failing.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Perturbation } from './harness.js';
import { declaredSubject, inCopy, type DeclaredRun } from './declared.js';
import type { Base } from './harness.js';

const LAB = 'udp-stale-dnat';

const after = (b: Base<DeclaredRun>) => b.evidence.evidence.recorded.phases.find((p) => p.name === 'after')!;
const newLog = (b: Base<DeclaredRun>) => b.evidence.evidence.recorded.agents.new!.log;
const requestsAfter = (b: Base<DeclaredRun>) =>
  fs
    .readFileSync(path.join(b.evidence.root, newLog(b)), 'utf8')
    .split('\n')
    .filter((l) => l.includes('"event": "request"') && Number(/"t": ([\d.]+)/.exec(l)?.[1]) >= after(b).start).length;

const stories: Array<Perturbation<DeclaredRun>> = [
  {
    kind: 'agent-capture-disagree',
    name: 'the new backend logs 20 requests after the move that the capture toward it does not show',
    applies: (b) => requestsAfter(b) === 0,
    apply: (b, s) =>
      inCopy(b, s, (r, file) => {
        const { start } = after(b);
        const lines = Array.from({ length: 20 }, (_, i) =>
          JSON.stringify({ event: 'request', t: start + 0.2 + i * 0.05, peer: '10.40.1.2:40000', local: null, bytes: 5 }),
        );
        fs.appendFileSync(file(r.agents.new!.log), `${lines.join('\n')}\n`);
      }),
  },
  {
    kind: 'agent-capture-disagree',
    name: 'the capture toward the new backend shows the requests after the move, its log none',
    applies: (b) => requestsAfter(b) > 0,
    apply: (b, s) =>
      inCopy(b, s, (r, file) => {
        const log = file(r.agents.new!.log);
        const kept = fs
          .readFileSync(log, 'utf8')
          .split('\n')
          .filter((l) => !l.includes('"event": "request"'));
        fs.writeFileSync(log, kept.join('\n'));
      }),
  },
  {
    // The flush is `mayFail` in the lab file: its failure is recorded, not fatal. The measures still say where the datagrams went.
    kind: 'side-evidence-failed',
    name: 'conntrack -D (the flush after the move) failed',
    applies: (b) => b.evidence.evidence.recorded.commands.some((c) => c.argv[0] === 'conntrack'),
    apply: (b, s) =>
      inCopy(b, s, (r) => {
        const flush = r.commands.find((c) => c.argv[0] === 'conntrack')!;
        Object.assign(flush, { exitCode: 1, output: 'conntrack v1.4.7 (conntrack-tools): Operation failed: such conntrack is not available\n' });
      }),
  },
];

export const udpStaleDnat = declaredSubject(LAB, stories);
