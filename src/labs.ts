/** Labs as the commands load them: src/lab's loading, checked against the scenarios in src/run. */
import { labIdOf, loadLab as loadWith, parseLabFile as parseWith } from './lab/load.js';
import type { LabFile } from './lab/schema.js';
import type { ResolvedLab } from './lab/model.js';
import type { SysctlProvider } from './lab/sysctl-policy.js';
import { scenarioCatalogue } from './run/catalogue.js';

export { displayPath, locateLab } from './lab/load.js';
export { labIdOf };

/** `provider` decides which sysctls the lab may set (netns: only per-namespace ones). */
export function loadLab(arg: string, instance?: string, provider?: SysctlProvider): ResolvedLab {
  return loadWith(arg, instance, { catalogue: scenarioCatalogue, provider });
}

export function parseLabFile(file: string, provider?: SysctlProvider): LabFile {
  return parseWith(file, { catalogue: scenarioCatalogue, provider });
}
