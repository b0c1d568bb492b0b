/** The scenarios this tool has, as src/lab checks lab files against them. */
import type { ScenarioCatalogue } from '../lab/catalogue.js';
import { findScenario, scenarioKinds } from './scenarios/registry.js';

export const scenarioCatalogue: ScenarioCatalogue = { kinds: scenarioKinds, find: findScenario };
