/** `measure: <name>`: a number a coded scenario computes from its evidence (Scenario.measures); declared labs have none. */
import * as z from 'zod';
import { measureKind } from '../kind.js';

export const SCENARIO_MEASURE_NAME = /^[a-z][A-Za-z0-9]{0,40}$/;

export const measure = measureKind({
  schema: () => z.string().regex(SCENARIO_MEASURE_NAME, "the name of a number the lab's coded scenario computes, such as clientReset"),
  check(spec, c, at) {
    c.problem(at, `found measure "${spec}": only a coded scenario computes named measures; a declared lab counts packets, agent, conntrack or snapshot`);
  },
  label: (s) => s,
  measure: (s) => ({ value: null, missing: `${s} is a coded scenario's measure, and this scenario is declared` }),
});
