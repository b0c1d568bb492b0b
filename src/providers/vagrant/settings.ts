/** The vagrant section of a lab file: how the lab's VMs are built. The command line's --box wins over box here. */
import type * as z from 'zod';
import type { SettingsDeclaration, SettingsKit } from '../../lab/provider-settings.js';

/** Written with the zod the lab layer hands over: this module loads with the descriptor, at every command's --help. */
export function vagrantSchema({ z, nodeName }: SettingsKit) {
  return z.strictObject({
    box: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,100}$/, 'a Vagrant box name (letters, digits, ".", "_", "-", "/")')
      .optional(),
    provider: z.enum(['libvirt', 'virtualbox']).default('libvirt'),
    machines: z
      .record(
        nodeName,
        z.strictObject({
          memory: z.number().int().min(256).max(65536).optional(),
          cpus: z.number().int().min(1).max(64).optional(),
        }),
      )
      .default({}),
  });
}

export type VagrantSettings = z.output<ReturnType<typeof vagrantSchema>>;

export const vagrantSettings: SettingsDeclaration<VagrantSettings> = (kit) => ({
  schema: vagrantSchema(kit),
  check(settings, lab) {
    // A docker-desktop-wsl2 node is a VM of its own beside its host, named <node>-vm.
    const nodes = Object.keys(lab.nodes);
    const machines = [...nodes, ...Object.entries(lab.nodes).flatMap(([n, node]) => (node.profile === 'docker-desktop-wsl2' ? [`${n}-vm`] : []))];
    return Object.keys(settings.machines)
      .filter((name) => !machines.includes(name))
      .map((name) => ({ path: ['machines', name], message: `found "${name}", expected a host or router of this lab (a VM): ${machines.join(', ')}` }));
  },
});
