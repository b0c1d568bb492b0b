/**
 * The scenario kind "declared": a lab file's own steps and verdict rules. The steps are checked
 * again with the lab's real addresses (${node.address}) and run; the rules judge the measures.
 */
import * as z from 'zod';
import { LabError } from '../../errors.js';
import { formatPath } from '../../lab/problems.js';
import { DECLARED_KIND, type VerdictRules } from '../../lab/declared/spec.js';
import { parseDeclared } from '../../lab/declared/parse.js';
import { measureKindOf } from '../../lab/declared/measures/index.js';
import { declaredTopology } from './topology.js';
import { splitDeclared } from '../../lab/declared/validate.js';
import type { Scenario } from '../scenarios/types.js';
import { verdict } from '../verdict.js';
import { runDeclaredSteps } from './steps.js';
import { conditionMeasures, measureAll, type Measured } from './measure.js';
import { judgeRules } from './rules.js';
import path from 'node:path';

export const declaredScenario: Scenario<Record<string, unknown>> = {
  kind: DECLARED_KIND,
  summary: 'steps and verdict rules declared in the lab file',
  params: z.record(z.string(), z.unknown()),
  nodeRefs: () => [],

  async run(ctx, params) {
    const { raw, params: values } = splitDeclared(params);
    const { scenario, problems } = parseDeclared(raw, values, declaredTopology(ctx.lab));
    if (!scenario) {
      const details = problems.map((p) => `${formatPath(p.path)}: ${p.message}`);
      throw new LabError("the declared scenario does not hold with this lab's addresses", { details });
    }
    const conntrackNodes = [...new Set(conditionMeasures(scenario.verdict).flatMap((m) => measureKindOf(m.kind).conntrackNode?.(m.spec) ?? []))];
    const recorded = await runDeclaredSteps(ctx, scenario, conntrackNodes);
    const measures = await measureAll(scenario.verdict, recorded, path.dirname(ctx.dir));
    return {
      params: values,
      rules: scenario.verdict,
      measures,
      phases: recorded.phases,
      agents: Object.fromEntries(Object.entries(recorded.agents).map(([k, a]) => [k, { node: a.node, summary: a.summary }])),
      commands: recorded.commands,
      recorded,
      pcaps: Object.values(recorded.captures).map((c) => ({ file: c.file, captured: c.captured, droppedByKernel: c.droppedByKernel })),
      agentLogs: Object.values(recorded.agents).map((a) => a.log),
    };
  },

  judge(evidence) {
    const rules = evidence.rules as VerdictRules | undefined;
    const measures = evidence.measures as Record<string, Measured> | undefined;
    if (!rules || !measures) return verdict('INCONCLUSIVE', 'the run recorded no measures', ['measures']);
    const decided = judgeRules(rules, measures);
    const timeouts = (evidence.recorded as { timeouts?: string[] } | undefined)?.timeouts ?? [];
    if (timeouts.length) {
      const v = verdict('INCONCLUSIVE', `${timeouts.join('; ')}; the rules alone would say ${decided.verdict}: ${decided.reason}`, ['timeouts']);
      return {
        ...v,
        ...(decided.outcome ? { outcome: { ...decided.outcome, seen: null } } : {}),
        ...(decided.mechanism ? { mechanism: decided.mechanism } : {}),
      };
    }
    return decided;
  },
};
