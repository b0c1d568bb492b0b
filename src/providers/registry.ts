/** Every provider, by its descriptor. Adding a provider is its folder and one line in this list; the first is the default. */
import { LabError } from '../errors.js';
import type { LabState } from '../state.js';
import type { ResolvedLab } from '../lab/model.js';
import type { Provider, ProviderArgs, ProviderCapabilities, ProviderDescriptor, ProviderOption } from './types.js';
import { trackOpened } from './opened.js';
import type { SysctlScope } from '../lab/sysctl-policy.js';
import type { SettingsDeclarations } from '../lab/provider-settings.js';
import { netnsDescriptor } from './netns/descriptor.js';
import { sshDescriptor } from './ssh/descriptor.js';
import { vagrantDescriptor } from './vagrant/descriptor.js';
import { qemuDescriptor } from './qemu/descriptor.js';

export const providers: readonly ProviderDescriptor[] = checkedRegistry([netnsDescriptor, sshDescriptor, vagrantDescriptor, qemuDescriptor]);

/** Like containerlab's registry: a name or an option taken twice is a bug, found when the list loads. */
export function checkedRegistry(list: ProviderDescriptor[]): ProviderDescriptor[] {
  const names = new Set<string>();
  const options = new Map<string, string>();
  for (const d of list) {
    if (names.has(d.name)) throw new Error(`internal: provider ${d.name} registered twice`);
    names.add(d.name);
    for (const o of Object.keys(d.options)) {
      if (options.has(o) && !sameOption(list, o)) throw new Error(`internal: option --${o} of ${d.name} differs from ${options.get(o)}'s`);
      options.set(o, d.name);
    }
  }
  return list;
}

function sameOption(list: ProviderDescriptor[], option: string): boolean {
  return new Set(list.flatMap((d) => (d.options[option] ? [JSON.stringify(d.options[option])] : []))).size === 1;
}

/** Each provider's own section of a lab file, by its name: what the lab layer composes into the lab file's schema. */
export const providerSettings: SettingsDeclarations = Object.fromEntries(providers.flatMap((d) => (d.settings ? [[d.name, d.settings]] : [])));

export function providerNames(): string[] {
  return providers.map((d) => d.name);
}

export const defaultProvider = providers[0]!.name;

/** The providers that can do something, by name: what a refusal names when another provider is asked for it. */
export function providersWith(capability: keyof ProviderCapabilities, list: readonly ProviderDescriptor[] = providers): string[] {
  return list.filter((d) => d.capabilities[capability]).map((d) => d.name);
}

/** Whether a provider can do something; an unknown provider cannot. */
export function providerCan(name: string, capability: keyof ProviderCapabilities, list: readonly ProviderDescriptor[] = providers): boolean {
  return list.some((d) => d.name === name && d.capabilities[capability]);
}

export function descriptorOf(name: string, wanted: 'provider' | 'render' = 'provider'): ProviderDescriptor {
  const found = providers.find((d) => d.name === name && (wanted === 'provider' || d.render));
  if (found) return found;
  if (wanted === 'render')
    throw new LabError(`lab render knows the ${renderNames().join(', ')} provider only, not "${name}"`, { hint: `--provider ${renderNames()[0]}` });
  throw new LabError(`unknown provider "${name}"`, { hint: `supported providers: ${providerNames().join(', ')}` });
}

/** Which sysctls a lab may set on a provider's nodes; an unknown provider is an error, never a fallback. */
export function sysctlScopeOf(name: string): SysctlScope {
  return descriptorOf(name).sysctls;
}

/** Every provider's options, for the commands that take --provider. */
export function providerOptions(): Record<string, ProviderOption> {
  return Object.assign({}, ...providers.map((d) => d.options)) as Record<string, ProviderOption>;
}

export function renderNames(): string[] {
  return providers.filter((d) => d.render).map((d) => d.name);
}

/** Every renderable provider's render options, for `lab render`. */
export function renderOptions(): Record<string, ProviderOption> {
  return Object.assign({}, ...providers.map((d) => d.render?.options ?? {})) as Record<string, ProviderOption>;
}

export async function getProvider(name: string, args: ProviderArgs = {}): Promise<Provider> {
  return opened(await descriptorOf(name).create(args));
}

/** The provider a lab was brought up with, configured as it was then. */
export async function providerOf(state: LabState): Promise<Provider> {
  return opened(await descriptorOf(state.provider).fromState(state));
}

/** What `lab up --dry-run` prints for a provider. */
export async function planOf(name: string, lab: ResolvedLab, args: ProviderArgs): Promise<string> {
  const descriptor = descriptorOf(name);
  if (!descriptor.plan)
    throw new LabError(`the ${name} provider has no dry run`, {
      hint: renderNames().includes(name) ? `lab render <lab> --provider ${name} --out DIR writes what it would build` : undefined,
    });
  return descriptor.plan(lab, args);
}

/** Removers of what a lab left behind when its state is gone, one per provider that can find things by name. */
export function leftoverRemovers(labId: string): Array<{ provider: string; remove: () => Promise<string[]> }> {
  return providers.flatMap((d) => (d.leftovers ? [{ provider: d.name, remove: () => d.leftovers!(labId) }] : []));
}

function opened(provider: Provider): Provider {
  if (provider.close) trackOpened(provider);
  return provider;
}
