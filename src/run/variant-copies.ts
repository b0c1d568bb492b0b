/**
 * Variants at once: each variant of a run gets its own copy of the lab, an instance named after the
 * run's instance and the variant's position (`v1`, `v2`, ... or `<instance>-v1`, ...). Copies are
 * ordinary instances (own namespaces, state, work folder), so `lab down` and Ctrl-C remove them the
 * way they remove any instance; `lab down <lab>` also finds the copies a crashed run left.
 */
import fs from 'node:fs';
import os from 'node:os';
import type { ResolvedLab, ResolvedVariant } from '../lab/model.js';
import { INSTANCE_NAME } from '../lab/names.js';
import { labId } from '../lab/resolve.js';
import { providerCan } from '../providers/registry.js';
import { listStates } from '../state.js';

/** Peak memory of one docker-1090 copy measured by the bench (~140 MiB: agents, tcpdump, docker-proxy), doubled for margin. */
export const COPY_MEMORY_BYTES = 280 * 2 ** 20;
/** Copies mostly wait on their scenario's timers, so more copies than cores still pay (docs/measurements.md, "Variant copies"). */
export const COPIES_PER_CORE = 4;

export function copyInstance(instance: string | undefined, index: number): string {
  return instance ? `${instance}-v${index + 1}` : `v${index + 1}`;
}

/** The copy for the variant at `index`; a variant with settings of its own (set:) gets a copy built with them. */
export function copyOf(lab: ResolvedLab, index: number, variant?: ResolvedVariant): ResolvedLab {
  const instance = copyInstance(lab.instance, index);
  // On another kernel the copy's id carries it too, as the lab's does: it never shares a name with a copy on this machine's kernel.
  return { ...lab, ...(variant?.topology ?? {}), instance, id: labId(lab.name, instance, lab.kernel) };
}

/** Whether every copy's instance name fits the instance rules (a 16-character instance leaves no room for "-v1"). */
export function copiesFit(lab: ResolvedLab, count: number): boolean {
  return INSTANCE_NAME.test(copyInstance(lab.instance, count - 1));
}

/**
 * How many copies may run at once: bounded by cores (COPIES_PER_CORE each) and by the memory
 * the kernel reports available (COPY_MEMORY_BYTES each). Below 2 the run stays serial.
 */
export function copiesAtOnce(variants: number, machine = { cores: os.availableParallelism(), freeBytes: os.freemem() }): number {
  return Math.max(1, Math.min(variants, machine.cores * COPIES_PER_CORE, Math.floor(machine.freeBytes / COPY_MEMORY_BYTES)));
}

/** How the user asked the variants to run, and whether this run brings the lab up itself. */
export interface RunMode {
  serial: boolean;
  concurrent: boolean;
  keep: boolean;
  broughtUp: boolean;
}

/**
 * Variants at once when run brings the lab up itself (or --concurrent) on a provider that can bring up copies, the machine has room
 * (cores and available memory) and the copies' instance names fit; else 1 (serial).
 * A lab that is already up stays serial: it is the lab the user is watching (exec, tcpdump, its state).
 */
export function variantsAtOnce(lab: ResolvedLab, provider: string, count: number, mode: RunMode): number {
  // A lab on another kernel stays serial: each copy would boot a guest of its own.
  if (
    mode.serial ||
    mode.keep ||
    count < 2 ||
    !providerCan(provider, 'variantCopies') ||
    lab.kernel ||
    lab.nodes.some((n) => n.kernel) ||
    !(mode.broughtUp || mode.concurrent)
  )
    return 1;
  return copiesFit(lab, count) ? copiesAtOnce(count) : 1;
}

const COPY_SUFFIX = /^v\d+(@\d+-\d+)?$/;

/** Ids of the variant copies of lab `name` (instance `instance`) that have a state or namespaces on this machine. */
export function leftoverCopies(name: string, instance: string | undefined): string[] {
  const parent = labId(name, instance);
  const copyPrefix = instance ? `${parent}-` : `${parent}+`;
  const isCopy = (id: string) => id.startsWith(copyPrefix) && COPY_SUFFIX.test(id.slice(copyPrefix.length));
  const fromStates = listStates()
    .map((s) => s.lab)
    .filter(isCopy);
  const fromNamespaces = (fs.existsSync('/run/netns') ? fs.readdirSync('/run/netns') : [])
    .filter((ns) => ns.startsWith(`lab.${copyPrefix}`))
    .map((ns) => ns.slice('lab.'.length, ns.lastIndexOf('.')))
    .filter(isCopy);
  return [...new Set([...fromStates, ...fromNamespaces])].sort();
}
