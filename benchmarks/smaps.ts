// Where a process's resident memory is, by kind of mapping, from /proc/self/smaps (Linux): to tell
// which allocator holds an RSS growth (issue 5 part 4). The kinds are read from the shapes the
// allocators leave, so they are a reading, not a certainty:
//   v8-pages      anonymous mappings of exactly 256 KiB: V8's regular heap pages (every isolate);
//   malloc-arenas anonymous read-write mappings followed by an inaccessible one, the two summing to
//                 64 MiB: glibc's per-thread arenas (native allocations of worker threads, zlib);
//   malloc-main   [heap]: glibc's main arena (brk);
//   stacks        anonymous mappings of 8 MiB after a 4 KiB guard: thread stacks;
//   files         file-backed pages (the node binary, ICU data, shared libraries);
//   other-anon    the rest: V8's large-object pages and code range, mmap'd malloc blocks (>= 128 KiB),
//                 ArrayBuffer backing stores.
import { readFileSync } from 'node:fs';

export type MappingKind = 'v8-pages' | 'malloc-arenas' | 'malloc-main' | 'stacks' | 'files' | 'other-anon';

interface Mapping {
  start: number;
  end: number;
  perms: string;
  path: string;
  rssKb: number;
}

function parse(text: string): Mapping[] {
  const out: Mapping[] = [];
  let cur: Mapping | undefined;
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head !== null) {
      cur = { start: parseInt(head[1] as string, 16), end: parseInt(head[2] as string, 16), perms: head[3] as string, path: head[4] ?? '', rssKb: 0 };
      out.push(cur);
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss !== null && cur !== undefined) cur.rssKb = Number(rss[1]);
  }
  return out;
}

const KIB = 1024;
const ARENA = 64 * KIB * KIB;

/** Resident MiB by kind of mapping, now. */
export function residentByKind(): Record<MappingKind, number> {
  const maps = parse(readFileSync('/proc/self/smaps', 'utf8'));
  const kb: Record<MappingKind, number> = { 'v8-pages': 0, 'malloc-arenas': 0, 'malloc-main': 0, stacks: 0, files: 0, 'other-anon': 0 };
  maps.forEach((m, i) => {
    const size = m.end - m.start;
    const next = maps[i + 1];
    const prev = maps[i - 1];
    let kind: MappingKind;
    if (m.path === '[heap]') kind = 'malloc-main';
    else if (m.path !== '' && !m.path.startsWith('[')) kind = 'files';
    else if (m.path !== '') kind = 'other-anon';
    else if (size === 256 * KIB) kind = 'v8-pages';
    else if (m.perms.startsWith('rw') && next !== undefined && next.start === m.end && next.perms === '---p' && next.end - m.start === ARENA) kind = 'malloc-arenas';
    else if (size === 8 * KIB * KIB && prev !== undefined && prev.end === m.start && prev.perms === '---p' && prev.end - prev.start === 4 * KIB) kind = 'stacks';
    else kind = 'other-anon';
    kb[kind] += m.rssKb;
  });
  const mib = {} as Record<MappingKind, number>;
  for (const [k, v] of Object.entries(kb) as Array<[MappingKind, number]>) mib[k] = Math.round((v / KIB) * 100) / 100;
  return mib;
}

/** `after - before`, kind by kind. */
export function residentGrowth(before: Record<MappingKind, number>, after: Record<MappingKind, number>): Record<MappingKind, number> {
  const out = {} as Record<MappingKind, number>;
  for (const k of Object.keys(before) as MappingKind[]) out[k] = Math.round((after[k] - before[k]) * 100) / 100;
  return out;
}
