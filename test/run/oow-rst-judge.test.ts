/** The docker-1090 verdict follows from its evidence, branch by branch. */
import test from 'ava';
import { oowRstScenario } from '../../src/run/scenarios/oow-rst.js';

const params = oowRstScenario.params.parse({ client: 'app', server: 'server' });

function evidence(overrides: Record<string, unknown> = {}) {
  return {
    server: { established: true, peer: '10.10.1.2:40000', forged: { seq: 100, offset: 100000 }, rsts: [], rstsAfterForge: 0, firstRstMsAfterForge: null, bytesEchoedAfterForge: 70, connectionEnd: 'fin' },
    client: { outcome: 'intact', sent: 25, echoed: 25, error: null, local: '172.17.0.2:40000' },
    rstAtServer: { fromAgent: 0, fromPcap: 0, firstMsAfterForge: null },
    clientHostPath: { forgedSeenOnUplink: true, rstAnsweredSegment: null },
    conntrack: { invalidDelta: 0 },
    ...overrides,
  };
}

test('a RST seen by the agent and in the capture is REPRODUCED', (t) => {
  const v = oowRstScenario.judge(
    evidence({ rstAtServer: { fromAgent: 1, fromPcap: 1, firstMsAfterForge: 3 }, client: { outcome: 'reset', sent: 6, echoed: 5, error: 'ECONNRESET' }, clientHostPath: { forgedSeenOnUplink: true, rstAnsweredSegment: { isForgedSegment: true } } }),
    params,
  );
  t.is(v.verdict, 'REPRODUCED');
  t.regex(v.reason, /in answer to the forged segment itself/);
});

test('no RST and a healthy connection is NOT_REPRODUCED', (t) => {
  t.is(oowRstScenario.judge(evidence(), params).verdict, 'NOT_REPRODUCED');
});

test('no RST but a stalled connection is NOT_REPRODUCED and says it stalled', (t) => {
  const v = oowRstScenario.judge(evidence({ client: { outcome: 'timeout', sent: 7, echoed: 6, error: 'no echo' }, conntrack: { invalidDelta: 13 } }), params);
  t.is(v.verdict, 'NOT_REPRODUCED');
  t.regex(v.reason, /stalled/);
  t.regex(v.reason, /invalid \+13/);
});

test('agent and capture disagreeing is INCONCLUSIVE', (t) => {
  t.is(oowRstScenario.judge(evidence({ rstAtServer: { fromAgent: 1, fromPcap: 0, firstMsAfterForge: 3 } }), params).verdict, 'INCONCLUSIVE');
});

test('a forged segment that never reached the client host is INCONCLUSIVE', (t) => {
  t.is(oowRstScenario.judge(evidence({ clientHostPath: { forgedSeenOnUplink: false, rstAnsweredSegment: null } }), params).verdict, 'INCONCLUSIVE');
});

test('no connection, or no forged segment, is INCONCLUSIVE', (t) => {
  t.is(oowRstScenario.judge(evidence({ server: null }), params).verdict, 'INCONCLUSIVE');
  t.is(oowRstScenario.judge(evidence({ server: { ...evidence().server, established: false } }), params).verdict, 'INCONCLUSIVE');
  t.is(oowRstScenario.judge(evidence({ server: { ...evidence().server, forged: null } }), params).verdict, 'INCONCLUSIVE');
});

test('a client reset without a RST from the client host is INCONCLUSIVE', (t) => {
  t.is(oowRstScenario.judge(evidence({ client: { outcome: 'reset', sent: 3, echoed: 2, error: 'ECONNRESET' } }), params).verdict, 'INCONCLUSIVE');
});
