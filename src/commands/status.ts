import { listStates } from '../state.js';

export const command = 'status';
export const describe = 'List the labs that are up, from their state';
export const builder = {};

export async function handler() {
  const states = listStates();
  if (states.length === 0) {
    process.stdout.write('no lab is up\n');
    return;
  }
  const { providerOf } = await import('../providers/registry.js');
  for (const s of states) {
    const facts = await (await providerOf(s)).describe(s);
    process.stdout.write(`${s.lab.padEnd(22)} ${s.status.padEnd(9)} ${s.provider.padEnd(8)} since ${s.createdAt}\n${facts.map((f) => `${''.padEnd(22)} ${f}\n`).join('')}`);
  }
}
