/** Labs as the commands load them: src/lab's loading, checked against the scenarios in src/run. */
import { loadLab as loadWith, parseLabFile as parseWith } from './lab/load.js';
import type { LabFile } from './lab/schema.js';
import type { ResolvedLab } from './lab/model.js';
import { scenarioCatalogue } from './run/catalogue.js';

export { displayPath, locateLab } from './lab/load.js';

export function loadLab(arg: string, instance?: string): ResolvedLab {
  return loadWith(arg, instance, scenarioCatalogue);
}

export function parseLabFile(file: string): LabFile {
  return parseWith(file, scenarioCatalogue);
}
