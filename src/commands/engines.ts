import type { ArgumentsCamelCase, Argv } from 'yargs';

export const command = 'engines';
export const describe = 'List the Docker engines docker-host nodes can run (--docker) and which are cached; --fetch 26.1 fetches ahead of time';
export const builder = (y: Argv) => y.option('fetch', { type: 'string', describe: 'fetch these engines now, comma-separated (20.10, 26.1)' });

export async function handler(argv: ArgumentsCamelCase<{ fetch?: string }>) {
  const { ENGINES, parseEngineList } = await import('../engines/engine-names.js');
  const { cachedEngine, engineCacheDir, fetchEngine, hostEngineBinaries } = await import('../engines/cache.js');
  if (argv.fetch !== undefined) {
    for (const e of parseEngineList(argv.fetch)) {
      if (e.kind !== 'debian') continue;
      const info = await fetchEngine(e.series, (text) => process.stderr.write(`${e.series}: ${text}\n`));
      process.stdout.write(`${e.series}: ${info.packages.map((p) => `${p.package} ${p.version}`).join(', ')} in ${info.root}\n`);
    }
    return;
  }
  const host = hostEngineBinaries();
  const rows = [
    ['engine', 'suite', 'cached', 'packages'],
    ['emulated', '-', 'yes', "the imitation: Docker's rules from a template, docker-proxy alone, containers as bare namespaces"],
    ['host', '-', host ? 'yes' : 'no', host ? `the dockerd installed here: ${host.dockerd}` : 'no dockerd installed on this machine'],
  ];
  for (const spec of ENGINES) {
    const info = cachedEngine(spec.series);
    const what = info
      ? info.packages.map((p) => `${p.package} ${p.version}${p.suite === spec.suite ? '' : ` (${p.suite})`}`).join(', ')
      : spec.packages.map((p) => `${p.name}${p.suite === spec.suite ? '' : ` (${p.suite})`}`).join(', ');
    rows.push([spec.series, spec.suite, info ? 'yes' : 'no', what]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  process.stdout.write(
    `${rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]!) : c)).join('  ')).join('\n')}\ncache: ${engineCacheDir()}\n${await defaultLine()}\n`,
  );
}

/** What a lab that names no engine runs here: LAB_DOCKER, else auto's choice on this kernel and in a --kernel guest. */
async function defaultLine(): Promise<string> {
  const { autoEngine } = await import('../engines/default.js');
  const { knownAccel } = await import('../kernels/accel.js');
  const named = process.env.LAB_DOCKER?.trim();
  if (named && named !== 'auto') return `default: ${named} (LAB_DOCKER)`;
  const rootless = typeof process.getuid === 'function' && process.getuid() !== 0;
  const say = (c: { engine: string; fallback?: string }) => (c.fallback ? `${c.engine} (${c.fallback})` : c.engine);
  const here = autoEngine({ rootless });
  const guest = autoEngine({ rootless, kernel: '<series>', accel: knownAccel() });
  return [
    'default (auto; --docker or LAB_DOCKER names another):',
    `  on this machine's kernel: ${say(here)}`,
    `  with --kernel: ${say(guest).replace('--kernel <series> guest', '--kernel guest')}`,
  ].join('\n');
}
