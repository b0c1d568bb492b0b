/** What the qemu provider records in a lab's state: the guests it planned, and each one as it boots. */
import type { GuestRecord } from './guests.js';

export type QemuResources = {
  planned: Array<{ node: string; series: string }>;
  guests: GuestRecord[];
  accel?: 'tcg' | 'kvm';
};
