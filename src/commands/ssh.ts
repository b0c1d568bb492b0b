import type { ArgumentsCamelCase, Argv } from 'yargs';
import { instanceOption, kernelOption, labArg, singleKernel } from './shared.js';
import path from 'node:path';
import { LabError } from '../errors.js';
import { labHome, packageRoot } from '../paths.js';
import { shellQuote } from '../transport/quote.js';

export const command = 'ssh <lab> [node] [cmd..]';
export const describe =
  'Log in to a machine of a running lab over SSH: a shell, or lab ssh LAB NODE -- CMD ... (qemu labs brought up with --ssh, vagrant and ssh providers)';
export const builder = (y: Argv) =>
  kernelOption(instanceOption(labArg(y)))
    .positional('node', { type: 'string', describe: 'a host or router of the lab' })
    .positional('cmd', { type: 'string', array: true })
    .option('config', { type: 'boolean', default: false, describe: "print an OpenSSH config block for the lab's machines (ssh -F FILE NODE)" })
    .option('proxy', {
      type: 'boolean',
      default: false,
      describe: "OpenSSH's ProxyCommand (what --config writes): a byte stream to NODE's sshd on stdin/stdout; LAB is then the lab's id",
    });

export interface SshArgs {
  lab: string;
  node?: string;
  instance?: string;
  kernel?: string | string[];
  cmd?: string[];
  config?: boolean;
  proxy?: boolean;
  '--'?: string[];
}

/** What the command line asks for: one of a login (a shell, or a command line), the config, the proxy. */
export type SshRequest =
  { mode: 'login'; node: string; commandLine?: string } | { mode: 'config'; node?: string } | { mode: 'proxy'; labId: string; node: string };

export function sshRequestOf(argv: SshArgs): SshRequest {
  const cmd = [...(argv.cmd ?? []), ...(argv['--'] ?? [])].map(String);
  if (argv.config && argv.proxy) throw new LabError('--config and --proxy do not go together', { hint: `lab ssh ${argv.lab} --config > lab.ssh_config` });
  if ((argv.config || argv.proxy) && cmd.length)
    throw new LabError(`--${argv.config ? 'config' : 'proxy'} takes no command`, { hint: `found: ${cmd.join(' ')}` });
  if (argv.config) return { mode: 'config', node: argv.node };
  if (!argv.node) throw new LabError('name a node to log in to', { hint: `lab ssh ${argv.lab} NODE [-- command ...]` });
  if (argv.proxy) {
    if (argv.instance !== undefined || argv.kernel !== undefined)
      throw new LabError("--proxy takes the lab's id (as lab status shows it), not --instance or --kernel", { hint: 'lab ssh LAB --config writes the line' });
    return { mode: 'proxy', labId: argv.lab, node: argv.node };
  }
  // As OpenSSH sends it: the words joined by spaces, one command line that the node's shell splits (pipes work).
  return { mode: 'login', node: argv.node, ...(cmd.length ? { commandLine: cmd.join(' ') } : {}) };
}

export async function handler(argv: ArgumentsCamelCase<SshArgs>) {
  const request = sshRequestOf(argv);
  if (request.mode === 'proxy') return proxy(request.labId, request.node);
  const { loadCheckedOpenedLab, openLab, checkedLabId } = await import('../checked-lab.js');
  const { defaultProvider, providerOf, sysctlScopeOf } = await import('../providers/registry.js');
  const { readState } = await import('../state.js');
  const { labRef } = await import('../lab/names.js');
  const kernels = await singleKernel(argv.kernel);
  const opened = openLab(argv.lab, argv.instance);
  const state = readState(checkedLabId(opened, kernels));
  const lab = loadCheckedOpenedLab(opened, { sysctls: sysctlScopeOf(state?.provider ?? defaultProvider), kernels });
  (await import('../lock.js')).assertNotBeingChanged(lab.id);
  if (state?.status !== 'up') throw new LabError(`lab ${lab.id} is not up`, { hint: `lab up ${labRef(lab)} --provider qemu`, kind: 'failure' });
  const provider = await providerOf(state);
  if (!provider.ssh) throw noSsh(provider.name, labRef(lab), request.node);
  if (request.mode === 'config' && !provider.sshConfig) throw noSsh(provider.name, labRef(lab), request.node, 'config');
  if (request.mode === 'config') {
    const text = provider.sshConfig!(state, (node) => proxyCommandLine(lab.id, node), request.node);
    if (!text) throw new LabError(`no machine ${request.node ? `"${request.node}" ` : ''}with an sshd in lab ${lab.id}`, { kind: 'failure' });
    process.stdout.write(text);
    return;
  }
  const login = provider.ssh(lab, request.node);
  try {
    process.exitCode = await login.interactive(request.commandLine);
  } finally {
    login.close();
  }
}

/**
 * The ProxyCommand of --config: this Node and this lab's bin, by absolute path, with LAB_HOME as now (the state and keys
 * are found from any folder, by whoever runs ssh). OpenSSH runs it with the user's shell: every word is quoted.
 */
export function proxyCommandLine(labId: string, node: string, bin = path.join(packageRoot, 'bin', 'lab.cjs')): string {
  const line = ['env', `LAB_HOME=${labHome()}`, process.execPath, bin, command.split(' ')[0]!, '--proxy', labId, node].map(shellQuote).join(' ');
  return line.replace(/%/g, '%%'); // ssh_config's own escape (%h, %p are its tokens)
}

/** A provider without logins (its nodes are no machines with an sshd, as the netns provider's namespaces) or configs. */
function noSsh(provider: string, ref: string, node = 'NODE', what: 'login' | 'config' = 'login'): LabError {
  return new LabError(`the ${provider} provider has ${what === 'login' ? 'no ssh login on its nodes' : 'no OpenSSH config to print'}`, {
    hint: `lab exec ${ref} ${node} -- sh gives a shell on any provider`,
  });
}

/** Bytes between stdin/stdout and the node's sshd until either side ends; nothing else is written to stdout. */
async function proxy(labId: string, node: string): Promise<void> {
  const { readState } = await import('../state.js');
  const { providerOf } = await import('../providers/registry.js');
  const state = readState(labId);
  if (state?.status !== 'up') throw new LabError(`lab ${labId} is not up`, { hint: 'lab status lists the labs that are up, by id', kind: 'failure' });
  const provider = await providerOf(state);
  if (!provider.sshProxy) throw noSsh(provider.name, labId, node);
  const stream = await provider.sshProxy(labId, node);
  // OpenSSH ends its ProxyCommand with SIGHUP: exit as on an end, so that the port's lock is released ('exit').
  for (const signal of ['SIGHUP', 'SIGTERM', 'SIGINT'] as const) process.once(signal, () => process.exit(0));
  await new Promise<void>((resolve) => {
    process.stdin.pipe(stream);
    stream.pipe(process.stdout);
    stream.once('close', resolve);
    process.stdin.once('end', () => stream.end());
  });
  process.stdin.destroy();
}
