/**
 * anyOf in the rule language, and the `measure` kind of a coded scenario's rules: how they judge, how they are
 * checked (a name the scenario does not compute is an error that lists the ones it does), and where they are refused.
 */
import test from 'ava';
import { judgeRules } from '../../src/run/declarative/rules.js';
import { measureId, type Measured } from '../../src/run/declarative/measure.js';
import { parseCodedVerdict, parseDeclared } from '../../src/lab/declared/parse.js';
import type { Condition, Measure, VerdictRules } from '../../src/lab/declared/spec.js';

const named = (name: string, as?: string): Measure => ({ kind: 'measure', spec: name, ...(as ? { as } : {}) });
const reset = named('clientReset', 'reset');
const timedOut = named('clientTimedOut', 'timed out');
const intact = named('clientIntact', 'intact');
const echoed = named('echoed', 'bytes echoed');
const cond = (measure: Measure, op: Condition['op'], than: number): Condition => ({ measure, op, than });
const rules: VerdictRules = {
  reproduced: [{ anyOf: [cond(reset, 'equals', 1), cond(timedOut, 'equals', 1)] }],
  notReproduced: [cond(intact, 'equals', 1)],
  healthy: [cond(echoed, 'above', 0)],
  mechanism: { name: 'held or answered', when: [{ anyOf: [cond(reset, 'equals', 1), cond(echoed, 'equals', 0)] }] },
};
const numbers = (values: Record<string, number | null>): Record<string, Measured> =>
  Object.fromEntries(
    Object.entries(values).map(([name, value]) => [
      measureId(named(name)),
      value === null ? { label: name, value: null, missing: `${name} was not measured` } : { label: name, value },
    ]),
  );

test('anyOf holds when one alternative holds, and the reason cites the one that held', (t) => {
  const v = judgeRules(rules, numbers({ clientReset: 0, clientTimedOut: 1, clientIntact: 0, echoed: 5 }));
  t.is(v.verdict, 'REPRODUCED');
  t.is(v.reason, '1 timed out');
});

test('anyOf fails when no alternative holds, and says why each failed', (t) => {
  const v = judgeRules(rules, numbers({ clientReset: 0, clientTimedOut: 0, clientIntact: 0, echoed: 5 }));
  t.is(v.verdict, 'INCONCLUSIVE');
  t.regex(v.reason, /for REPRODUCED none of: 0 reset, needed exactly 1 or 0 timed out, needed exactly 1/);
});

test('a missing measure in any alternative is INCONCLUSIVE, even when another alternative holds', (t) => {
  const v = judgeRules(rules, numbers({ clientReset: 1, clientTimedOut: null, clientIntact: 0, echoed: 5 }));
  t.is(v.verdict, 'INCONCLUSIVE');
  t.is(v.inconclusive, 'evidence-missing');
  t.regex(v.reason, /clientTimedOut was not measured/);
});

test('anyOf in the mechanism: seen when one alternative holds, and seen without the failure is said', (t) => {
  const v = judgeRules(rules, numbers({ clientReset: 0, clientTimedOut: 0, clientIntact: 1, echoed: 0 }));
  t.is(v.verdict, 'INCONCLUSIVE', 'healthy evidence needs more than 0 bytes echoed');
  t.true(v.mechanism?.seen);
  const fine = judgeRules(
    { ...rules, mechanism: { name: 'reset seen', when: [{ anyOf: [cond(reset, 'equals', 1), cond(timedOut, 'equals', 1)] }] } },
    numbers({ clientReset: 0, clientTimedOut: 0, clientIntact: 1, echoed: 5 }),
  );
  t.is(fine.verdict, 'NOT_REPRODUCED');
  t.false(fine.mechanism?.seen);
});

const raw = {
  reproduced: [
    {
      anyOf: [
        { measure: 'clientReset', equals: 1 },
        { measure: 'clientTimedOut', equals: 1 },
      ],
    },
  ],
  notReproduced: { when: [{ measure: 'clientIntact', equals: 1 }], healthy: [{ measure: 'echoed', above: 0 }] },
};
const NAMES = ['clientReset', 'clientTimedOut', 'clientIntact', 'echoed'];

test("a coded scenario's rules parse to the same language", (t) => {
  const { rules: parsed, problems } = parseCodedVerdict(raw, NAMES);
  t.deepEqual(problems, []);
  t.deepEqual(parsed?.reproduced, [{ anyOf: [cond(named('clientReset'), 'equals', 1), cond(named('clientTimedOut'), 'equals', 1)] }]);
});

test("a name the scenario does not compute is an error at its path that lists the scenario's measures", (t) => {
  const bad = {
    ...raw,
    reproduced: [
      {
        anyOf: [
          { measure: 'clientReset', equals: 1 },
          { measure: 'clientStalled', equals: 1 },
        ],
      },
    ],
  };
  const { rules: parsed, problems } = parseCodedVerdict(bad, NAMES);
  t.is(parsed, undefined);
  t.deepEqual(problems, [
    {
      path: ['scenario', 'verdict', 'reproduced', 0, 'anyOf', 1, 'measure'],
      message: `found "clientStalled", expected one of the scenario's measures: ${NAMES.join(', ')}`,
    },
  ]);
});

test("a coded scenario's rules count nothing themselves: packets, agent, conntrack and snapshot are refused", (t) => {
  const bad = { ...raw, notReproduced: { ...raw.notReproduced, when: [{ conntrack: { node: 'client', counter: 'invalid' }, equals: 0 }] } };
  const { problems } = parseCodedVerdict(bad, NAMES);
  t.is(problems.length, 1);
  t.deepEqual(problems[0]!.path, ['scenario', 'verdict', 'notReproduced', 'when', 0, 'conntrack']);
  t.regex(problems[0]!.message, /a coded scenario's rules use its own measures: clientReset/);
});

test('anyOf needs at least two conditions and stands alone; healthy evidence takes none', (t) => {
  const one = parseCodedVerdict({ ...raw, reproduced: [{ anyOf: [{ measure: 'clientReset', equals: 1 }] }] }, NAMES).problems;
  t.deepEqual(
    one.map((p) => p.message),
    ['expected a list of at least 2 conditions, any of which holds'],
  );
  const extra = parseCodedVerdict({ ...raw, reproduced: [{ anyOf: raw.reproduced[0]!.anyOf, equals: 1 }] }, NAMES).problems;
  t.regex(extra[0]!.message, /unknown key "equals" \(anyOf stands alone/);
  const healthy = parseCodedVerdict({ ...raw, notReproduced: { ...raw.notReproduced, healthy: [{ anyOf: raw.reproduced[0]!.anyOf }] } }, NAMES).problems;
  t.true(healthy.length > 0, 'anyOf in healthy is refused');
  t.deepEqual(healthy[0]!.path.slice(0, 5), ['scenario', 'verdict', 'notReproduced', 'healthy', 0]);
});

test('a declared lab cannot name a coded measure: it computes none', (t) => {
  const { problems } = parseDeclared(
    {
      params: {},
      steps: [{ agent: { name: 'client', node: 'a', run: 'udp-client', args: { to: '192.0.2.1', port: 53 } } }],
      verdict: {
        reproduced: [{ measure: 'clientReset', equals: 1 }],
        notReproduced: {
          when: [{ agent: { name: 'client', counter: 'received' }, atLeast: 1 }],
          healthy: [{ agent: { name: 'client', counter: 'received' }, atLeast: 1 }],
        },
      },
    },
    {},
    { nodes: ['a'], linked: [], addresses: { a: '192.0.2.1' } },
  );
  t.true(
    problems.some((p) => p.path.join('.') === 'scenario.verdict.reproduced.0.measure' && /only a coded scenario computes named measures/.test(p.message)),
    JSON.stringify(problems),
  );
});

test('allOf inside anyOf: an alternative of several conditions, each judged, and the reason groups them', (t) => {
  const hostRsts = named('hostRsts', 'host RSTs');
  const held = named('held', 'segments held');
  const grouped: VerdictRules = {
    reproduced: [
      { anyOf: [{ allOf: [cond(reset, 'equals', 1), cond(hostRsts, 'above', 0)] }, { allOf: [cond(timedOut, 'equals', 1), cond(held, 'above', 0)] }] },
    ],
    notReproduced: [cond(intact, 'equals', 1)],
    healthy: [cond(echoed, 'above', 0)],
  };
  const n = (r: number, h: number, to: number, held: number) => numbers({ clientReset: r, hostRsts: h, clientTimedOut: to, held, clientIntact: 0, echoed: 1 });
  t.is(judgeRules(grouped, n(1, 2, 0, 0)).reason, '(1 reset and 2 host RSTs)');
  t.is(judgeRules(grouped, n(0, 0, 1, 3)).verdict, 'REPRODUCED');
  const resetWithoutRst = judgeRules(grouped, n(1, 0, 0, 3));
  t.is(resetWithoutRst.verdict, 'INCONCLUSIVE', 'a reset without host RSTs is neither alternative, however many segments were held');
  t.regex(resetWithoutRst.reason, /none of: \(1 reset and 0 host RSTs, needed more than 0\) or \(0 timed out, needed exactly 1 and 3 segments held\)/);
  const parsed = parseCodedVerdict(
    {
      ...raw,
      reproduced: [
        {
          anyOf: [
            {
              allOf: [
                { measure: 'clientReset', equals: 1 },
                { measure: 'echoed', above: 0 },
              ],
            },
            { measure: 'clientTimedOut', equals: 1 },
          ],
        },
      ],
    },
    NAMES,
  );
  t.deepEqual(parsed.problems, []);
  const bad = parseCodedVerdict(
    {
      ...raw,
      reproduced: [
        {
          anyOf: [
            {
              allOf: [
                { measure: 'clientReset', equals: 1 },
                { measure: 'nope', above: 0 },
              ],
            },
            { measure: 'clientTimedOut', equals: 1 },
          ],
        },
      ],
    },
    NAMES,
  );
  t.deepEqual(bad.problems[0]!.path, ['scenario', 'verdict', 'reproduced', 0, 'anyOf', 0, 'allOf', 1, 'measure']);
});
