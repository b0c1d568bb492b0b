import { LabError } from '../../errors.js';
import type { Scenario } from './types.js';
import type { ScenarioCatalogue } from '../../lab/scenario-catalogue.js';
import { oowRstScenario } from './oow-rst.js';
import { udpReplySourceScenario } from './udp-reply-source.js';
import { lateSegmentsScenario } from './late-segments.js';
import { udpBindingSequenceScenario } from './udp-binding-sequence.js';
import { conntrackCleanupRaceScenario } from './conntrack-cleanup-race.js';
import { declaredScenario } from '../declarative/scenario.js';

const scenarios = new Map<string, Scenario<any, any>>();

export function registerScenario(scenario: Scenario<any, any>): void {
  if (scenarios.has(scenario.kind)) throw new Error(`internal: scenario ${scenario.kind} registered twice`);
  scenarios.set(scenario.kind, scenario);
}

export function scenarioKinds(): string[] {
  return [...scenarios.keys()].sort();
}

export function findScenario(kind: string): Scenario<any, any> | undefined {
  return scenarios.get(kind);
}

export function getScenario(kind: string): Scenario<any, any> {
  const found = scenarios.get(kind);
  if (!found) throw new LabError(`unknown scenario kind "${kind}"`, { hint: `supported kinds: ${scenarioKinds().join(', ')}` });
  return found;
}

registerScenario(oowRstScenario);
registerScenario(udpReplySourceScenario);
registerScenario(lateSegmentsScenario);
registerScenario(udpBindingSequenceScenario);
registerScenario(conntrackCleanupRaceScenario);
registerScenario(declaredScenario);

/** The scenarios this tool has, as src/lab checks lab files against them. */
export const scenarioCatalogue: ScenarioCatalogue = { kinds: scenarioKinds, find: findScenario };
