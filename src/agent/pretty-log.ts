/**
 * A small human-readable formatter for pino's JSON lines, used as a pino destination stream by the
 * agent's `--log-format pretty` (so pino-pretty is not a dependency):
 *
 *   12:04:05.123 INFO  [api-1/probe] probe failed target=api-3 seqNo=42
 *
 * Fields pino adds (time, level, pid, hostname, msg) and the node/actor bindings are folded into the
 * prefix; every other field follows as key=value. Errors print their type and message only.
 */

export interface LineSink {
  write(text: string): unknown;
}

const LEVELS: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLOURS: Readonly<Record<number, string>> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' };
const OMIT = new Set(['time', 'level', 'pid', 'hostname', 'msg', 'node', 'actor', 'v']);

/** A pino destination: `pino(options, prettyDestination(process.stderr, { colour: process.stderr.isTTY }))`. */
export function prettyDestination(sink: LineSink, options: { colour?: boolean } = {}): { write(chunk: string): void } {
  const colour = options.colour === true;
  return {
    write(chunk: string): void {
      // pino writes one JSON object per line; a chunk may in principle hold several.
      for (const line of chunk.split('\n')) {
        if (line.trim() === '') continue;
        sink.write(`${formatLine(line, colour)}\n`);
      }
    },
  };
}

/** Formats one pino JSON line; anything that is not a JSON object is passed through unchanged. */
export function formatLine(line: string, colour = false): string {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return line;
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return line;
  const r = record as Record<string, unknown>;
  const level = typeof r['level'] === 'number' ? r['level'] : 30;
  const levelName = (LEVELS[level] ?? String(level)).padEnd(5);
  const shownLevel = colour ? `\x1b[${COLOURS[level] ?? '0'}m${levelName}\x1b[0m` : levelName;
  const where = [r['node'], r['actor']].filter((v) => typeof v === 'string' && v !== '').join('/');
  const parts = [timeOf(r['time']), shownLevel];
  if (where !== '') parts.push(`[${where}]`);
  if (typeof r['msg'] === 'string' && r['msg'] !== '') parts.push(r['msg']);
  for (const [key, value] of Object.entries(r)) {
    if (OMIT.has(key)) continue;
    parts.push(`${key}=${valueText(value)}`);
  }
  return parts.join(' ');
}

function timeOf(time: unknown): string {
  const d = typeof time === 'number' || typeof time === 'string' ? new Date(time) : new Date();
  const valid = Number.isNaN(d.getTime()) ? new Date() : d;
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${pad(valid.getHours())}:${pad(valid.getMinutes())}:${pad(valid.getSeconds())}.${pad(valid.getMilliseconds(), 3)}`;
}

function valueText(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    // pino's error serializer: { type, message, stack, ... }: the stack stays out of a one-line log.
    if (typeof o['message'] === 'string' && (typeof o['type'] === 'string' || typeof o['stack'] === 'string')) {
      return JSON.stringify(`${typeof o['type'] === 'string' ? `${o['type']}: ` : ''}${o['message']}`);
    }
  }
  return JSON.stringify(value) ?? String(value);
}
