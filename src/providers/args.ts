/** Reading a provider's command-line values, which arrive untyped (every provider declares its own). */
import { LabError } from '../errors.js';
import type { ProviderArgs } from './types.js';

export function stringArg(args: ProviderArgs, name: string): string | undefined {
  const value = args[name];
  if (value === undefined || typeof value === 'string') return value;
  throw new LabError(`--${name} takes one value, not ${JSON.stringify(value)}`);
}

export function booleanArg(args: ProviderArgs, name: string): boolean {
  return args[name] === true;
}
