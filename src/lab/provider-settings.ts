/**
 * A provider's own section of a lab file (vagrant: its VMs' box, memory, cpus), under the provider's name. Each
 * provider declares its section in its descriptor, as a function of the zod the lab layer hands it: the descriptor stays
 * light (no zod at --help), and the lab layer composes the sections it is given without naming a provider.
 */
import type * as z from 'zod';
import type { LabFile } from './schema.js';
import type { Problem } from './problems.js';

/** What a section is written with: zod itself, and the lab file's own pieces a section refers to. */
export interface SettingsKit {
  z: typeof z;
  nodeName: z.ZodString;
}

export interface ProviderSettings<T = unknown> {
  /** Strict, like the rest of the file: every value that reaches a command line or a rendered file is checked here. */
  schema: z.ZodType<T>;
  /** Cross-checks against the rest of the file (a VM named that is no node); paths are inside the section. */
  check?(settings: T, lab: LabFile): Problem[];
}

export type SettingsDeclaration<T = unknown> = (kit: SettingsKit) => ProviderSettings<T>;

/** Every provider's section, by provider name: what the registry hands the lab layer. */
export type SettingsDeclarations = Readonly<Record<string, SettingsDeclaration>>;
