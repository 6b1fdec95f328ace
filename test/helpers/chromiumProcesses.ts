import { readdirSync, readFileSync } from 'node:fs';

/** One line of the process table. */
export interface ProcessEntry {
  readonly pid: number;
  readonly ppid: number;
  /** The executable's name (`/proc/<pid>/comm`, at most 15 characters). */
  readonly comm: string;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    // The process ended while we looked.
    return undefined;
  }
}

/** Every process on the machine, from /proc (Linux only). */
export function listProcesses(): ProcessEntry[] {
  const entries: ProcessEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = read(`/proc/${name}/stat`);
    if (!stat) continue;
    // comm may hold spaces and parentheses: it ends at the last ')'.
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    entries.push({ pid: Number(name), ppid: Number(fields[1]), comm: stat.slice(stat.indexOf('(') + 1, close) });
  }
  return entries;
}

const isChromium = (p: ProcessEntry) => /^(chromium|chrome)/.test(p.comm);

/** Chromium browser processes started by `parent` (each is the root of one process tree). */
export function chromiumBrowsers(parent = process.pid, table = listProcesses()): number[] {
  return table.filter((p) => p.ppid === parent && isChromium(p)).map((p) => p.pid);
}

/** `root` and all its descendants. */
export function processTree(root: number, table = listProcesses()): number[] {
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const p of table) if (p.ppid === tree[i]) tree.push(p.pid);
  return tree;
}

/** Resident memory of `pids`, summed: RSS counts shared pages once per process, PSS splits them. */
export function memoryOf(pids: readonly number[]): { rssBytes: number; pssBytes: number } {
  let rss = 0;
  let pss = 0;
  for (const pid of pids) {
    const rollup = read(`/proc/${pid}/smaps_rollup`) ?? '';
    rss += Number(/^Rss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) * 1024;
    pss += Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) * 1024;
  }
  return { rssBytes: rss, pssBytes: pss };
}

/**
 * Chromium processes whose environment holds `marker` (a `NAME=value` this
 * process set before launching): found even after a crashed browser's
 * children were re-parented away from us.
 */
export function chromiumProcessesMarked(marker: string): number[] {
  return listProcesses()
    .filter((p) => isChromium(p) && p.pid !== process.pid && (read(`/proc/${p.pid}/environ`) ?? '').split('\0').includes(marker))
    .map((p) => p.pid);
}
