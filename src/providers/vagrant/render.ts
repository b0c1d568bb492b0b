/**
 * Vagrantfile.hbs and the per-profile provisioning partials rendered from a resolved lab. Every value
 * that reaches Ruby goes through `rb` (a string literal with nothing interpolated), every value that
 * reaches a shell script through `sh` (one quoted word), numbers through `int`: a lab file can
 * never inject code, even one that got past validation.
 */
import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import type * as z from 'zod';
import { settingsKit } from '../../lab/schema.js';
import { vagrantSchema, type VagrantSettings } from './settings.js';
import type { ResolvedLab, ResolvedNode } from '../../lab/model.js';
import { packageRoot, templatesDir } from '../../paths.js';
import { rubyString, shellQuote } from '../../transport/quote.js';
import { overlaps, parseCidr } from '../../lab/ip.js';

export interface RenderOptions {
  box?: string;
  /** libvirt's domain driver: "qemu" (software emulation) unless told otherwise. */
  libvirtDriver?: 'qemu' | 'kvm';
}

export interface RenderedVagrant {
  files: Record<string, string>;
}

const hb = Handlebars.create();
hb.registerHelper('rb', (v: unknown) => new hb.SafeString(rubyString(String(v))));
hb.registerHelper('sh', (v: unknown) => new hb.SafeString(shellQuote(String(v))));
hb.registerHelper('int', (v: unknown) => {
  if (!Number.isInteger(v)) throw new Error(`internal: ${String(v)} is not an integer`);
  return String(v);
});
hb.registerPartial('machine', fs.readFileSync(path.join(templatesDir, 'vagrant', 'machine.hbs'), 'utf8'));
hb.registerPartial('docker', fs.readFileSync(path.join(templatesDir, 'vagrant', 'provision', 'docker.sh.hbs'), 'utf8'));
const vagrantfile = hb.compile(fs.readFileSync(path.join(packageRoot, 'Vagrantfile.hbs'), 'utf8'), { strict: true });
const provision = hb.compile(fs.readFileSync(path.join(templatesDir, 'vagrant', 'provision', 'common.sh.hbs'), 'utf8'), { strict: true });

export const DEFAULT_BOX = 'lab/debian12';

/**
 * libvirt names (domains, networks) of a lab start with this. vagrant-libvirt drops "+" from domain
 * names, so the instance separator becomes "_", which like "." never occurs in a lab or instance name.
 */
export function networkPrefix(labId: string): string {
  return `lab-${labId.replace('+', '_')}.`;
}

export function networkName(lab: ResolvedLab, linkIndex: number): string {
  return `${networkPrefix(lab.id)}l${linkIndex}`;
}

/**
 * Vagrant's management network (ssh only) gets a /24 of its own per lab id, so labs side by side
 * do not ask libvirt for the same one; it is never one of the lab's own subnets.
 */
export function managementAddress(lab: ResolvedLab): string {
  let hash = 2166136261;
  for (const c of lab.id) hash = Math.imul(hash ^ c.charCodeAt(0), 16777619) >>> 0;
  const used = [...lab.links.map((l) => l.subnet), ...lab.nodes.flatMap((n) => (n.docker ? [n.docker.subnet] : []))].map((s) => parseCidr(s)!);
  for (let i = 0; i < 200; i++) {
    const subnet = `192.168.${20 + ((hash + i) % 200)}.0/24`;
    if (!used.some((u) => overlaps(u, parseCidr(subnet)!))) return subnet;
  }
  throw new Error('internal: no management subnet left');
}

function netmask(prefix: number): string {
  const bits = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (bits >>> s) & 255).join('.');
}

function machineView(lab: ResolvedLab, node: ResolvedNode) {
  return {
    name: node.name,
    hostname: node.name,
    networks: node.interfaces
      .filter((i) => i.link !== undefined)
      .map((i) => ({ address: i.address, netmask: netmask(i.prefix), network: networkName(lab, i.link!) })),
    memory: vagrantSettingsOf(lab).machines[node.name]?.memory ?? (node.profile === 'docker-host' ? 1024 : 512),
    cpus: vagrantSettingsOf(lab).machines[node.name]?.cpus ?? 1,
    provisionName: `${node.profile} ${node.name}`,
    provisionPath: `provision/${node.name}.sh`,
  };
}

function provisionView(lab: ResolvedLab, node: ResolvedNode) {
  return {
    name: node.name,
    profile: node.profile,
    labId: lab.id,
    sysctls: Object.entries(node.sysctls).map(([k, v]) => `${k}=${v}`),
    // The VM's own first interface is Vagrant's management network: lab routes go by address, never by device.
    routes: node.routes.map((r) => ({ to: r.to, via: r.via })),
    mtus: node.interfaces.filter((i) => i.mtu).map((i) => ({ address: i.address, mtu: i.mtu })),
    forwards: node.desktop?.forwards ?? [],
    masquerade: node.desktop?.switchSubnet ?? false,
    docker: node.docker
      ? {
          containers: node.containers.map((c) => ({
            name: c,
            publish: node.docker!.publish.filter((p) => p.container === c).map((p) => `${p.hostIp}:${p.hostPort}:${p.containerPort}/${p.proto}`),
          })),
        }
      : false,
  };
}

export function renderVagrant(lab: ResolvedLab, options: RenderOptions = {}): RenderedVagrant {
  const machines = lab.nodes.filter((n) => n.kind !== 'container');
  const files: Record<string, string> = {
    Vagrantfile: vagrantfile({
      labId: lab.id,
      labFile: path.relative(packageRoot, lab.file),
      box: boxOf(lab, options.box),
      prefix: networkPrefix(lab.id),
      managementName: `${networkPrefix(lab.id)}mgmt`,
      managementAddress: managementAddress(lab),
      libvirtDriver: options.libvirtDriver ?? 'qemu',
      machines: machines.map((m) => machineView(lab, m)),
    }),
  };
  for (const m of machines) files[`provision/${m.name}.sh`] = provision(provisionView(lab, m));
  return { files };
}

/** The box: the command line's, else the lab file's, else the one scripts/build-box.sh builds. */
export function boxOf(lab: ResolvedLab, box?: string): string {
  return box ?? vagrantSettingsOf(lab).box ?? DEFAULT_BOX;
}

let settingsSchema: z.ZodType<VagrantSettings> | undefined;

/** The lab file's vagrant section, its defaults filled in when it has none. */
export function vagrantSettingsOf(lab: ResolvedLab): VagrantSettings {
  settingsSchema ??= vagrantSchema(settingsKit);
  return settingsSchema.parse(lab.settings?.vagrant ?? {});
}

export function writeRendered(rendered: RenderedVagrant, dir: string): string[] {
  const written: string[] = [];
  for (const [name, content] of Object.entries(rendered.files)) {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content, { mode: name.endsWith('.sh') ? 0o755 : 0o644 });
    written.push(file);
  }
  return written;
}
