/** `vagrant up` of every VM of a lab in one process, shown as one progress line per VM. */
import { LabError } from '../../errors.js';
import type { LongProcess } from '../../transport/process.js';
import type { Step } from '../../ui/steps.js';
import { parseEvent, vagrantStreaming, type VagrantPlace } from './cli.js';

let booting: LongProcess | undefined;

/** Stop a `vagrant up` still running (Ctrl-C, a failed step) before its VMs are destroyed. */
export async function stopBooting(): Promise<void> {
  const proc = booting;
  if (!proc) return;
  proc.signal('SIGTERM');
  const timer = setTimeout(() => proc.signal('SIGKILL'), 60_000);
  await proc.exited;
  clearTimeout(timer);
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
  progress: (text: string) => void;
}

function deferred(): Deferred {
  const d = { progress: () => undefined } as unknown as Deferred;
  d.promise = new Promise<void>((resolve, reject) => Object.assign(d, { resolve, reject }));
  d.promise.catch(() => undefined);
  return d;
}

export function bootSteps(place: VagrantPlace, machines: string[], vmProvider: 'libvirt' | 'virtualbox', verbose: boolean): Step[] {
  const vms = new Map(machines.map((m) => [m, deferred()]));
  const boot: Step = {
    title: `Boot ${machines.length} VMs with vagrant up (minutes under software emulation)`,
    run: async (progress) => {
      const proc = vagrantStreaming(place, ['up', '--provider', vmProvider, '--parallel']);
      booting = proc;
      const errors: string[] = [];
      proc.onLine((line) => {
        const e = parseEvent(line);
        if (!e) return;
        if (e.type === 'error-exit') errors.push(e.data.slice(1).join(' ').trim());
        if (e.type !== 'ui') return;
        const message = e.data.slice(1).join(',').trim();
        if (verbose) process.stderr.write(`${message}\n`);
        const vm = vms.get(e.target);
        if (!vm) return progress(message);
        // The provisioning script's last line says the VM is ready.
        if (message.includes(`provisioned ${e.target}`)) vm.resolve();
        else vm.progress(message.replace(/^==> [^:]+: /, ''));
      });
      const code = await proc.exited;
      booting = undefined;
      if (code !== 0) {
        const error = new LabError('vagrant up failed', {
          details: errors.length ? errors : proc.stderrText().trim().split('\n').slice(-8),
          hint: "lab up --verbose shows Vagrant's own output",
          kind: 'failure',
        });
        for (const vm of vms.values()) vm.reject(error);
        throw error;
      }
      for (const vm of vms.values()) vm.resolve();
    },
    parts: machines.map((m) => ({
      title: m,
      run: async (progress) => {
        const vm = vms.get(m)!;
        vm.progress = progress;
        await vm.promise;
      },
    })),
  };
  return [boot];
}
