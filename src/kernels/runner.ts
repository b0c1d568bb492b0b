/** A Runner whose commands run inside a kernel's QEMU guest, over the exec channel. */
import type { Runner } from '../transport/runner.js';
import { SOFTWARE_EMULATION_SLOWDOWN } from '../transport/types.js';
import type { GuestChannel } from './channel.js';

export function guestRunner(channel: GuestChannel): Runner {
  return {
    run: (argv, options) => channel.exec(argv, options),
    start: (argv) => channel.start(argv),
    service: (argv, logFile, readyTimeoutMs) => channel.service(argv, logFile, readyTimeoutMs),
    async attach(argv) {
      const p = channel.start(argv);
      p.onLine((line) => process.stdout.write(`${line}\n`));
      const code = await p.exited;
      if (p.stderrText()) process.stderr.write(p.stderrText());
      return code ?? 1;
    },
    rootless: false,
    slowdown: SOFTWARE_EMULATION_SLOWDOWN,
  };
}
