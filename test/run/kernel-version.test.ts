/** The upstream version behind a distribution's `uname -r`, from real /proc/version (and Ubuntu's version_signature) texts. */
import test from 'ava';
import { kernelLabel, kernelVersionOf, readKernel } from '../../src/run/kernel-version.js';
import type { Transport } from '../../src/transport/types.js';

// Read in the Debian 5.10 guest `lab up --kernel 5.10` boots (linux-image-5.10.0-32-amd64-unsigned 5.10.223-1).
const debian510 =
  'Linux version 5.10.0-32-amd64 (debian-kernel@lists.debian.org) (gcc-10 (Debian 10.2.1-6) 10.2.1 20210110, GNU ld (GNU Binutils for Debian) 2.35.2) #1 SMP Debian 5.10.223-1 (2024-08-10)\n';
// Debian 6.1, as a boot log on linux-mips quotes it (bookworm's 6.1.27-1).
const debian61 =
  'Linux version 6.1.0-9-loongson-3 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT Debian 6.1.27-1 (2023-05-08)\n';
// Debian 6.12 (trixie), as `cat /proc/version` printed it in a bug report.
const debian612 =
  'Linux version 6.12.57+deb13-amd64 (debian-kernel@lists.debian.org) (x86_64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0, GNU ld (GNU Binutils for Debian) 2.44) #1 SMP PREEMPT_DYNAMIC Debian 6.12.57-1 (2025-11-05)\n';
// This machine's kernel: no distribution, the version is in `uname -r` itself.
const host = 'Linux version 6.18.44-fc-v1300 (builder@sandboxing) (gcc (GCC) 15.3.0, GNU ld (GNU Binutils) 2.46) #1 SMP PREEMPT_DYNAMIC @0\n';

test("Debian's package version names the patch level uname -r hides", (t) => {
  t.is(kernelVersionOf('5.10.0-32-amd64', debian510), '5.10.223');
  t.is(kernelVersionOf('6.1.0-9-loongson-3', debian61), '6.1.27');
  t.is(kernelVersionOf('6.12.57+deb13-amd64', debian612), '6.12.57');
});

test("the compiler's Debian version (gcc-10 (Debian 10.2.1-6)) is not taken for the kernel's", (t) => {
  const noBuildVersion = debian510.replace('#1 SMP Debian 5.10.223-1 (2024-08-10)', '#1 SMP (2024-08-10)');
  t.is(kernelVersionOf('5.10.0-32-amd64', noBuildVersion), '5.10.0', 'falls back to uname -r, not to 10.2.1');
});

test('backports and other suffixes of the package version', (t) => {
  const bpo = debian612.replace('Debian 6.12.57-1 ', 'Debian 6.12.74-2~bpo12+1 ');
  t.is(kernelVersionOf('6.12.74+deb12-amd64', bpo), '6.12.74');
});

test('a package version of another series than uname -r is ignored', (t) => {
  t.is(kernelVersionOf('6.1.0-9-amd64', debian510), '6.1.0');
});

test("Ubuntu's version_signature gives the upstream version; without it, uname -r", (t) => {
  // As a linux-media report quotes it; Ubuntu's /proc/version itself names no upstream version.
  t.is(kernelVersionOf('4.15.0-55-generic', '', 'Ubuntu 4.15.0-55.60~16.04.2-generic 4.15.18\n'), '4.15.18');
  t.is(kernelVersionOf('2.6.24-23-server', '', 'Ubuntu 2.6.24-23.52-server\n'), '2.6.24', 'an old signature without the upstream field');
});

test("a kernel without a distribution: uname -r's numbers", (t) => {
  t.is(kernelVersionOf('6.18.44-fc-v1300', host), '6.18.44');
  t.is(kernelVersionOf('6.1'), '6.1.0');
  t.is(kernelVersionOf('unknown'), 'unknown');
});

test('reports show uname -r, and the upstream version only when it adds something', (t) => {
  t.is(kernelLabel({ kernel: '5.10.0-32-amd64', kernelVersion: '5.10.223' }), '5.10.0-32-amd64 (5.10.223)');
  t.is(kernelLabel({ kernel: '6.18.44-fc-v1300', kernelVersion: '6.18.44' }), '6.18.44-fc-v1300');
  t.is(kernelLabel({ kernel: '6.18.44-fc-v595' }), '6.18.44-fc-v595');
});

test('readKernel asks the node for uname -r, /proc/version and (Ubuntu) /proc/version_signature', async (t) => {
  const files: Record<string, string> = { '/proc/version': debian510 };
  const asked: string[][] = [];
  const transport = {
    exec: async (argv: readonly string[]) => {
      asked.push([...argv]);
      if (argv[0] === 'uname') return { stdout: '5.10.0-32-amd64\n', stderr: '', exitCode: 0 };
      const text = files[argv[1]!];
      return text === undefined ? { stdout: '', stderr: `cat: ${argv[1]}: No such file or directory`, exitCode: 1 } : { stdout: text, stderr: '', exitCode: 0 };
    },
  } as unknown as Transport;
  t.deepEqual(await readKernel(transport), { kernel: '5.10.0-32-amd64', kernelVersion: '5.10.223' });
  t.deepEqual(asked.map((a) => a.join(' ')).sort(), ['cat /proc/version', 'cat /proc/version_signature', 'uname -r']);
});
