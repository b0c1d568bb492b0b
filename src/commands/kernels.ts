import os from 'node:os';
import type { ArgumentsCamelCase, Argv } from 'yargs';

export const command = 'kernels';
export const describe = 'List the kernels labs can run on (--kernel) and which are cached; --fetch 5.10 fetches ahead of time';
export const builder = (y: Argv) =>
  y.option('fetch', { type: 'string', describe: 'fetch these kernels now, comma-separated (5.10, 6.1, 6.12 or a suite name)' });

export async function handler(argv: ArgumentsCamelCase<{ fetch?: string }>) {
  const { SUITES, parseKernelList } = await import('../kernels/kernel-names.js');
  const { cachedKernel, fetchKernel, kernelCacheDir } = await import('../kernels/cache.js');
  if (argv.fetch !== undefined) {
    for (const k of parseKernelList(argv.fetch)) {
      if (k.kind === 'host') continue;
      const info = await fetchKernel(k.series, (text) => process.stderr.write(`${k.series}: ${text}\n`));
      process.stdout.write(`${k.series}: ${info.package} ${info.version} (${info.release}) in ${info.root}\n`);
    }
    return;
  }
  const rows = [
    ['kernel', 'suite', 'cached', 'package'],
    ['host', '-', 'yes', `this machine's own: ${os.release()}`],
  ];
  for (const s of SUITES) {
    const info = cachedKernel(s.series);
    const what = info ? `${info.package} ${info.version} (${info.release})` : `linux-image-${s.series}.*-amd64-unsigned from ${s.suite}`;
    rows.push([s.series, s.suite, info ? 'yes' : 'no', what]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  process.stdout.write(
    `${rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]!) : c)).join('  ')).join('\n')}\ncache: ${kernelCacheDir()}\n`,
  );
}
