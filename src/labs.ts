/** Labs as the commands load them: src/lab's loading, checked against the scenarios in src/run. */
import { labIdOf, loadLab as loadWith, parseLabFile as parseWith } from './lab/load.js';
import type { LabFile } from './lab/schema.js';
import type { ResolvedLab } from './lab/model.js';
import type { SysctlProvider } from './lab/sysctl-policy.js';
import { scenarioCatalogue } from './run/catalogue.js';

export { displayPath, locateLab } from './lab/load.js';
export { labIdOf };

/**
 * `provider` decides which sysctls the lab may set (netns: only per-namespace ones); `kernel` (a Debian series such as
 * 5.10) runs the lab inside a QEMU guest of that kernel, and its id carries it.
 */
export function loadLab(arg: string, instance?: string, options: { provider?: SysctlProvider; kernel?: string } = {}): ResolvedLab {
  return loadWith(arg, instance, { catalogue: scenarioCatalogue, ...options });
}

export function parseLabFile(file: string, provider?: SysctlProvider): LabFile {
  return parseWith(file, { catalogue: scenarioCatalogue, provider });
}
