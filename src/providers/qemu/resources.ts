/** What the qemu provider records in a lab's state: the guests it planned, and each one as it boots. */
import type { GuestRecord } from './guests.js';

export type QemuResources = {
  planned: Array<{ node: string; series: string }>;
  guests: GuestRecord[];
  accel?: 'tcg' | 'kvm';
  /** Brought up with an sshd in every guest (lab up --ssh). */
  ssh?: boolean;
  /** Each guest's sshd host key ("ssh-ed25519 AAAA..."), pinned when it was made at boot: lab ssh accepts no other. */
  sshHostKeys?: Record<string, string>;
};
