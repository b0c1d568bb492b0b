/**
 * Disk use of a lab's engines: the data root of each dockerd (image, containers' vfs layers, logs) is counted and held
 * to a bound, LAB_ENGINE_DISK_MAX_MB (1024 MB unless set). A lab at rest takes about 10 MB per engine (the busybox image
 * and two vfs copies of it per container); what grows is what agents write inside containers and container logs, which
 * rotate at 1 MB (daemon.ts). `lab up` refuses to start an engine on a file system with less free space than the bound;
 * `lab status` and every run report say each engine's use, and when it is over the bound.
 */
import fs from 'node:fs';
import path from 'node:path';

export function engineDiskBoundBytes(): number {
  const mb = Number(process.env.LAB_ENGINE_DISK_MAX_MB ?? 1024);
  return (Number.isFinite(mb) && mb > 0 ? mb : 1024) * 1024 * 1024;
}

/** Bytes allocated under dir (blocks, as du counts them), on dir's own file system only, each inode once. */
export function diskUse(dir: string): number {
  let root: fs.Stats;
  try {
    root = fs.lstatSync(dir);
  } catch {
    return 0;
  }
  const seen = new Set<number>();
  let total = 0;
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(p);
      } catch {
        continue;
      }
      if (st.dev !== root.dev || seen.has(st.ino)) continue;
      seen.add(st.ino);
      total += st.blocks * 512;
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return total + root.blocks * 512;
}

export function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** "data root 9.8 MB (bound 1024 MB)", with a warning when over. */
export function diskNote(dir: string): string {
  const used = diskUse(dir);
  const bound = engineDiskBoundBytes();
  const over = used > bound ? `, OVER the bound: see what grows in ${dir}; LAB_ENGINE_DISK_MAX_MB sets it` : '';
  return `data root ${megabytes(used)} (bound ${Math.round(bound / (1024 * 1024))} MB${over})`;
}

/** Free space where the engines' folders go is less than the bound: the sentence saying so, for preflight. */
export function tooLittleSpace(dir: string, engines: number): string | undefined {
  let free: number;
  try {
    let probe = dir;
    while (!fs.existsSync(probe)) probe = path.dirname(probe);
    const st = fs.statfsSync(probe);
    free = st.bavail * st.bsize;
  } catch {
    return undefined;
  }
  const need = engineDiskBoundBytes() * engines;
  if (free >= need) return undefined;
  return `${engines} real Docker engine(s) may use up to ${megabytes(need)} under ${dir}, and its file system has ${megabytes(free)} free: free some space, or lower the bound with LAB_ENGINE_DISK_MAX_MB`;
}
