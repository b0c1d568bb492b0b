/** Labs as the commands load them: src/lab's loading, checked against the scenarios in src/run and the providers' own sections. */
import {
  loadOpenedLab as loadOpenedWith,
  loadLab as loadWith,
  openedLabId as openedIdWith,
  parseLabFile as parseWith,
  type LoadOptions,
  type OpenedLab,
} from './lab/load.js';
import type { LabFile } from './lab/schema.js';
import type { ResolvedLab } from './lab/model.js';
import type { SysctlScope } from './lab/sysctl-policy.js';
import { scenarioCatalogue } from './run/scenarios/registry.js';
import { providerSettings as settings } from './providers/registry.js';

export { displayPath, locateLab, openLab } from './lab/load.js';

/**
 * `provider` decides which sysctls the lab may set (netns: only per-namespace ones); `kernel` (a Debian series such as
 * 5.10) runs the lab inside a QEMU guest of that kernel, and its id carries it; `kernels` also sets single nodes' kernels.
 */
type Options = Omit<LoadOptions, 'catalogue' | 'settings'>;

export function loadCheckedLab(arg: string, instance?: string, options: Options = {}): ResolvedLab {
  return loadWith(arg, instance, { catalogue: scenarioCatalogue, settings, ...options });
}

/** loadLab on a lab opened (found, read and parsed) earlier, e.g. to find its state by its id. */
export function loadCheckedOpenedLab(opened: OpenedLab, options: Options = {}): ResolvedLab {
  return loadOpenedWith(opened, { catalogue: scenarioCatalogue, settings, ...options });
}

export function parseCheckedLabFile(file: string, sysctls?: SysctlScope): LabFile {
  return parseWith(file, { catalogue: scenarioCatalogue, sysctls, settings });
}

/** The id of an opened lab, from a lenient check (any sysctl): to find its state before the strict one. */
export function checkedLabId(opened: OpenedLab, kernel?: Parameters<typeof openedIdWith>[1]): string {
  return openedIdWith(opened, kernel, settings);
}
