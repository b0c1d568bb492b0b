/** Expectations that name a node's kernel ({ client: "<6.1" }): matching on each node's kernel, overlaps, what reports say. */
import test from 'ava';
import { expectationFor, expectationProblems, kernelSelectorsOverlap, kernelsMatch, type Expectation } from '../../src/lab/expect.js';
import { loadLab } from '../../src/lab/load.js';
import { checkOf, expectationLine, kernelsToMatchText, runKernels, withExpectations, type NodeKernels } from '../../src/run/expect.js';
import { kernelLabel } from '../../src/run/kernel-version.js';
import { verdictJson } from '../../src/report/json.js';
import type { RunResult } from '../../src/run/run-lab.js';

const source = 'https://example.org/x';
const entry = (kernel: Expectation['kernel'], verdict: Expectation['verdict'] = 'REPRODUCED'): Expectation => ({ kernel, verdict, why: 'because', source });

test('a range by node holds that node kernel; the others may run anything', (t) => {
  const mixed = { run: '6.1.176', nodes: { client: '6.1.176', router: '5.10.223', server: '5.10.223' } };
  t.true(kernelsMatch({ client: '>=6.1' }, mixed));
  t.false(kernelsMatch({ router: '>=6.1' }, mixed));
  t.true(kernelsMatch({ client: '>=6.1', router: '<6.1' }, mixed), 'every named node must hold');
  t.false(kernelsMatch({ client: '>=6.1', server: '>=6.1' }, mixed));
  t.true(kernelsMatch({ client: '6.1' }, { run: '6.1.176' }), "on one kernel every node's is the run's");
  t.false(kernelsMatch({ client: '>=6.1' }, { run: 'unknown' }), 'a kernel without a version matches nothing');
});

test('a plain range holds every node kernel: on one kernel the run, on mixed kernels each node', (t) => {
  t.true(kernelsMatch('>=6.1', { run: '6.18.44' }));
  t.false(kernelsMatch('>=6.1', { run: '6.1.176', nodes: { client: '6.1.176', router: '5.10.223' } }), 'router 5.10 is outside');
  t.true(kernelsMatch('>=5.10', { run: '6.1.176', nodes: { client: '6.1.176', router: '5.10.223' } }));
  t.true(kernelsMatch('*', { run: '6.1.176', nodes: { client: '6.1.176', router: '5.10.223' } }));
});

test('two entries overlap when one run could match both: per node, or a plain range against a named node', (t) => {
  t.true(kernelSelectorsOverlap({ client: '>=6.1' }, { router: '<6.1' }), 'client 6.1 with router 5.10 matches both');
  t.false(kernelSelectorsOverlap({ client: '>=6.1' }, { client: '<6.1' }));
  t.true(kernelSelectorsOverlap('>=6.1', { client: '>=6.12' }), 'every node on 6.12');
  t.false(kernelSelectorsOverlap('<6.1', { client: '>=6.1' }), 'a plain range also holds the client');
  t.false(kernelSelectorsOverlap({ client: '<6.1', router: '>=6.1' }, { client: '<6.1', router: '<6.1' }));
  t.true(kernelSelectorsOverlap('*', { server: '6.12' }));
  const problems = expectationProblems([entry({ client: '>=6.1' }), entry('>=6.12', 'NOT_REPRODUCED'), entry({ client: '<6.1', router: '6.1' })]);
  t.deepEqual(problems, [{ index: 1, field: 'kernel', message: 'kernel ">=6.12" overlaps "client >=6.1" of entry [0]; give each kernel one expectation' }]);
});

test("docker-1090: the NAT box's kernel picks the expectation, whatever the router and server run", (t) => {
  const lab = loadLab('docker-1090');
  const expect = (variant: string) => lab.variants.find((v) => v.name === variant)!.expect;
  const clientOn61 = { run: '6.1.176', nodes: { client: '6.1.176', router: '5.10.223', server: '5.10.223' } };
  const clientOn510 = { run: '5.10.223', nodes: { client: '5.10.223', router: '6.1.176', server: '6.12.117' } };
  t.is(expectationFor(expect('upstream-trigger'), clientOn61)?.verdict, 'NOT_REPRODUCED');
  t.is(expectationFor(expect('upstream-trigger'), clientOn510)?.verdict, 'REPRODUCED');
  t.deepEqual(expectationFor(expect('drop-invalid'), clientOn61)?.kernel, { client: '>=6.1' });
  t.is(expectationFor(expect('drop-invalid'), clientOn510)?.verdict, 'NOT_REPRODUCED');
  t.is(expectationFor(expect('drop-invalid'), { run: '5.15.70' })?.verdict, 'unknown', '5.15.68+ is not known');
  t.is(expectationFor(expect('ahead-far'), clientOn510)?.verdict, 'REPRODUCED', '"*" covers any mix');
  // Runs on one kernel (netns, --kernel) are matched as before: the client's kernel is the run's.
  t.is(expectationFor(expect('baseline'), '6.18.44')?.verdict, 'REPRODUCED');
  t.is(expectationFor(expect('behind-in-flight'), '5.10.223')?.verdict, 'NOT_REPRODUCED');
  t.is(expectationFor(expect('behind-in-flight'), '6.18.44')?.verdict, 'NOT_REPRODUCED');
  t.is(expectationFor(expect('upstream-trigger'), '6.18.44')?.verdict, 'NOT_REPRODUCED');
});

const nodeKernels: NodeKernels = {
  client: { kernel: '5.10.0-32-amd64', kernelVersion: '5.10.223' },
  router: { kernel: '6.1.0-40-amd64', kernelVersion: '6.1.176' },
};

const mixedRun = (expect: Expectation[], verdict: 'REPRODUCED' | 'NOT_REPRODUCED') => {
  const run = { kernel: '5.10.0-32-amd64', kernelVersion: '5.10.223', nodeKernels, variants: [{ name: 'v', verdict }] };
  return withExpectations({ variants: [{ name: 'v', expect }] }, run).variants[0]!;
};

test("a run on mixed kernels is checked on each node's kernel as the run read it", (t) => {
  t.deepEqual(runKernels({ kernel: '5.10.0-32-amd64', kernelVersion: '5.10.223', nodeKernels }), {
    run: '5.10.223',
    nodes: { client: '5.10.223', router: '6.1.176' },
  });
  const matches = mixedRun([entry({ client: '<6.1' }), entry({ client: '>=6.1' }, 'NOT_REPRODUCED')], 'REPRODUCED');
  t.is(checkOf(matches), 'matches');
  t.is(expectationLine(matches, 'REPRODUCED', 'x'), 'as expected on client <6.1 (REPRODUCED)');
  const differs = mixedRun([entry({ router: '>=6.1' }, 'NOT_REPRODUCED')], 'REPRODUCED');
  t.is(checkOf(differs), 'differs');
  t.is(expectationLine(differs, 'REPRODUCED', 'x'), 'DIFFERS from expected NOT_REPRODUCED on router >=6.1: because');
  const plain = mixedRun([entry('<6.1'), entry('>=6.1')], 'REPRODUCED');
  t.is(checkOf(plain), 'unchecked', 'ranges for every node cover no run whose nodes straddle them');
  const run = { kernel: '5.10.0-32-amd64', kernelVersion: '5.10.223', nodeKernels };
  t.is(expectationLine(plain, 'REPRODUCED', kernelsToMatchText(run)), 'unchecked: no expectation for client 5.10.223, router 6.1.176');
});

test("reports name each node's kernel when they differ, and verdict.json keeps them", (t) => {
  t.is(
    kernelLabel({ kernel: '5.10.0-32-amd64', kernelVersion: '5.10.223', nodeKernels }),
    'client 5.10.0-32-amd64 (5.10.223), router 6.1.0-40-amd64 (6.1.176)',
  );
  t.is(kernelLabel({ kernel: '6.18.44-fc-v1300', kernelVersion: '6.18.44' }), '6.18.44-fc-v1300', 'one kernel: as before');
  const run: RunResult = {
    lab: 'docker-1090',
    title: 't',
    provider: 'p',
    kernel: '5.10.0-32-amd64',
    kernelVersion: '5.10.223',
    nodeKernels,
    runId: 'r',
    resultsDir: '/tmp/r',
    startedAt: 's',
    variants: [],
  };
  t.deepEqual(verdictJson(run).nodeKernels, nodeKernels);
  t.false('nodeKernels' in verdictJson({ ...run, nodeKernels: undefined }), 'absent on one kernel');
});
