/**
 * What `lab list` shows of each lab (title, upstream, or why the file is invalid), kept between calls. Parsing the
 * lab files loads YAML and the schemas, about ten times what Node itself takes to start; the listing is reused while
 * every lab.yaml and the tool's own build are unchanged (sizes and modification times), and rebuilt otherwise.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { labHome } from '../paths.js';

export interface ListedLab {
  name: string;
  title?: string;
  upstream?: string[];
  invalid?: string;
}

interface Saved {
  stamp: string;
  labs: ListedLab[];
}

const cacheFile = () => path.join(labHome(), 'cache', 'list.json');

/** Changes when a lab file or the build changes: tsc rewrites every module, this one included. */
export function listingStamp(files: string[]): string {
  const own = fs.statSync(fileURLToPath(import.meta.url));
  const parts = files.map((f) => {
    const s = fs.statSync(f);
    return `${f}:${s.size}:${s.mtimeMs}`;
  });
  return [`build:${own.mtimeMs}`, ...parts].join('\n');
}

export function savedListing(stamp: string): ListedLab[] | undefined {
  try {
    const saved = JSON.parse(fs.readFileSync(cacheFile(), 'utf8')) as Saved;
    return saved.stamp === stamp && Array.isArray(saved.labs) ? saved.labs : undefined;
  } catch {
    return undefined;
  }
}

/** Best effort: a state folder that cannot be written only costs the next call its speed. */
export function saveListing(stamp: string, labs: ListedLab[]): void {
  try {
    fs.mkdirSync(path.dirname(cacheFile()), { recursive: true });
    const tmp = `${cacheFile()}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ stamp, labs } satisfies Saved));
    fs.renameSync(tmp, cacheFile());
  } catch {
    // not cached
  }
}
