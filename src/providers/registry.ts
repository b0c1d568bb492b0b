import { LabError } from '../errors.js';
import type { LabState, Provider } from './types.js';
import { createSshProvider } from './ssh/index.js';
import { createVagrantProvider } from './vagrant/index.js';
import { trackOpened } from './opened.js';
import { netnsProvider } from './netns/index.js';

const providers = new Map<string, Provider>();

export function registerProvider(provider: Provider): void {
  if (providers.has(provider.name)) throw new Error(`internal: provider ${provider.name} registered twice`);
  providers.set(provider.name, provider);
}

export function providerNames(): string[] {
  return [...providers.keys(), 'ssh', 'vagrant'];
}

export interface ProviderOptions {
  inventory?: string;
  box?: string;
  verbose?: boolean;
}

export function getProvider(name: string, options: ProviderOptions = {}): Provider {
  if (name === 'ssh') {
    const ssh = createSshProvider(options);
    trackOpened(ssh);
    return ssh;
  }
  if (name === 'vagrant') {
    const vagrant = createVagrantProvider({ box: options.box, verbose: options.verbose });
    trackOpened(vagrant);
    return vagrant;
  }
  const provider = providers.get(name);
  if (!provider) throw new LabError(`unknown provider "${name}"`, { hint: `supported providers: ${providerNames().join(', ')}` });
  return provider;
}

/** The provider a lab was brought up with, configured as it was then. */
export function providerOf(state: LabState): Provider {
  return getProvider(state.provider, { inventory: state.resources.inventory as string | undefined, box: state.resources.box as string | undefined });
}

registerProvider(netnsProvider);
