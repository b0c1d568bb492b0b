/** Labs as the commands load them: src/lab's loading, checked against the scenarios in src/run. */
import { loadOpenedLab as loadOpenedWith, loadLab as loadWith, parseLabFile as parseWith, type LoadOptions, type OpenedLab } from './lab/load.js';
import type { LabFile } from './lab/schema.js';
import type { ResolvedLab } from './lab/model.js';
import type { SysctlScope } from './lab/sysctl-policy.js';
import { scenarioCatalogue } from './run/catalogue.js';

export { displayPath, locateLab, openLab, openedLabId } from './lab/load.js';

/**
 * `provider` decides which sysctls the lab may set (netns: only per-namespace ones); `kernel` (a Debian series such as
 * 5.10) runs the lab inside a QEMU guest of that kernel, and its id carries it; `kernels` also sets single nodes' kernels.
 */
type Options = Omit<LoadOptions, 'catalogue'>;

export function loadLab(arg: string, instance?: string, options: Options = {}): ResolvedLab {
  return loadWith(arg, instance, { catalogue: scenarioCatalogue, ...options });
}

/** loadLab on a lab opened (found, read and parsed) earlier, e.g. to find its state by its id. */
export function loadOpenedLab(opened: OpenedLab, options: Options = {}): ResolvedLab {
  return loadOpenedWith(opened, { catalogue: scenarioCatalogue, ...options });
}

export function parseLabFile(file: string, sysctls?: SysctlScope): LabFile {
  return parseWith(file, { catalogue: scenarioCatalogue, sysctls });
}
