/**
 * The `memberlist-ts` command line: `agent` runs a node, `members` prints a running agent's member
 * table. Arguments are parsed with node:util parseArgs (strict). Every error is one line on stderr,
 * never a stack trace (set MEMBERLIST_TS_DEBUG=1 to see one). Exit codes:
 *
 * | code | meaning |
 * |---|---|
 * | 0 | success; for `agent`, a graceful leave after SIGINT/SIGTERM |
 * | 1 | a runtime failure: bind, join, key file, HTTP status unreachable |
 * | 2 | a usage error: unknown flag, bad value, missing argument |
 * | 130 / 143 | `agent` got a second SIGINT / SIGTERM while leaving and exited at once |
 */
import { realpathSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isIP } from 'node:net';
import { MemberlistError } from '../errors.js';
import type { Profile } from '../config.js';
import { AgentError, UsageError, parseHostPort, parsePort } from './address.js';
import { LOG_LEVELS, runAgent, type AgentIo, type AgentOptions, type LogFormat, type LogLevel } from './agent.js';
import { healthText, type MemberView } from './member-view.js';

const PROG = 'memberlist-ts';
const DEFAULT_PORT = 7946;

const MAIN_HELP = `Usage: ${PROG} <command> [flags]

Commands:
  agent     run a cluster member until SIGINT/SIGTERM (then leave gracefully)
  members   print the member table of a running agent (through its --http address)

Run "${PROG} <command> --help" for the flags of a command. "${PROG} --version" prints the version.
`;

const AGENT_HELP = `Usage: ${PROG} agent [flags]

Runs one member. Logs go to stderr; stdout has status lines (listening, http address, joined, left).
SIGINT/SIGTERM leave the cluster gracefully, then exit 0; a second signal exits at once.

Flags:
  --name NAME            node name, unique in the cluster (default: the host name)
  --bind ADDR[:PORT]     address and port to bind (default 0.0.0.0:${DEFAULT_PORT}); ":PORT" keeps 0.0.0.0
  --advertise ADDR[:PORT]
                         address (and port) other members use to reach us (default: the bound one)
  --join ADDR[:PORT]     a seed to join through; repeat for several; host names resolve to every address
  --preset lan|wan|local timing preset (default lan); --profile is the same flag
  --key-file PATH        a file holding a base64 AES key of 16, 24 or 32 bytes (encrypts the gossip)
  --label LABEL          cluster label (nodes with different labels ignore each other)
  --meta TEXT            node metadata, gossiped to every member (at most 512 bytes by default)
  --set KEY=VALUE        any other config field, e.g. --set probeIntervalMs=500 (repeatable; VALUE is
                         JSON when it parses as JSON, else a string)
  --http ADDR:PORT       serve /, /members, /health, /metrics and /events there (nothing is served
                         without it; ":PORT" binds 127.0.0.1; port 0 picks a free port)
  --leave-timeout MS     how long the leave on shutdown may take (default 5000)
  --log-level LEVEL      trace|debug|info|warn|error|fatal|silent (default info)
  --log-format FORMAT    json (pino lines, default) or pretty
  -h, --help             this help
`;

const MEMBERS_HELP = `Usage: ${PROG} members --http ADDR:PORT [--json]

Prints the member table of a running agent (started with --http): name, address, state,
incarnation, health as seen by that agent, meta.

Flags:
  --http ADDR:PORT | URL the agent's HTTP status address
  --json                 print the JSON the agent returns instead of a table
  --timeout MS           give up after this long (default 5000)
  -h, --help             this help
`;

export interface CliIo {
  readonly stdout: { write(text: string): unknown; isTTY?: boolean };
  readonly stderr: { write(text: string): unknown; isTTY?: boolean };
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** For the agent: signal source and immediate exit (default: the process's). */
  readonly signals?: AgentIo['signals'];
  readonly exit?: AgentIo['exit'];
}

/** Runs the command line `args` (without node and script); resolves with the exit code. */
export async function main(args: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = args;
  const fail = (err: unknown, where: string): number => reportError(err, where, io);
  switch (command) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      io.stdout.write(MAIN_HELP);
      return command === undefined ? 2 : 0;
    case '-v':
    case '--version':
    case 'version':
      io.stdout.write(`${version()}\n`);
      return 0;
    case 'agent':
      try {
        const options = parseAgentArgs(rest);
        if (options === 'help') {
          io.stdout.write(AGENT_HELP);
          return 0;
        }
        return await runAgent(options, io);
      } catch (err) {
        return fail(err, 'agent');
      }
    case 'members':
      try {
        return await membersCommand(rest, io);
      } catch (err) {
        return fail(err, 'members');
      }
    default:
      return fail(
        new UsageError(
          command.startsWith('-') ? `unknown option ${JSON.stringify(command)} before the command` : `unknown command ${JSON.stringify(command)}`,
        ),
        '',
      );
  }
}

// ───── agent ─────

/** Parses the agent's flags into AgentOptions ('help' for --help). Throws UsageError. */
export function parseAgentArgs(args: readonly string[]): AgentOptions | 'help' {
  const { values } = parse(args, {
    name: { type: 'string' },
    bind: { type: 'string' },
    advertise: { type: 'string' },
    join: { type: 'string', multiple: true },
    preset: { type: 'string' },
    profile: { type: 'string' },
    'key-file': { type: 'string' },
    label: { type: 'string' },
    meta: { type: 'string' },
    set: { type: 'string', multiple: true },
    http: { type: 'string' },
    'leave-timeout': { type: 'string' },
    'log-level': { type: 'string' },
    'log-format': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values['help'] === true) return 'help';

  const str = (k: string): string | undefined => {
    const v = values[k];
    return typeof v === 'string' ? v : undefined;
  };
  const list = (k: string): string[] => {
    const v = values[k];
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  };

  const bind = str('bind') !== undefined ? parseHostPort(str('bind') ?? '', '--bind') : { host: '', port: undefined };
  const bindAddr = bind.host === '' ? '0.0.0.0' : bind.host;
  const bindPort = bind.port ?? DEFAULT_PORT;

  let advertiseAddr: string | undefined;
  let advertisePort: number | undefined;
  const advertiseText = str('advertise');
  if (advertiseText !== undefined) {
    const a = parseHostPort(advertiseText, '--advertise');
    if (a.host === '') throw new UsageError('--advertise: an address is required (e.g. 10.0.0.5 or 10.0.0.5:7946)');
    advertiseAddr = a.host;
    advertisePort = a.port;
  }

  const presetFlag = str('preset');
  const profileFlag = str('profile');
  if (presetFlag !== undefined && profileFlag !== undefined && presetFlag !== profileFlag) {
    throw new UsageError('--preset and --profile are the same flag; give one');
  }
  const preset = presetFlag ?? profileFlag ?? 'lan';
  if (preset !== 'lan' && preset !== 'wan' && preset !== 'local') {
    throw new UsageError(`--preset must be lan, wan or local; got ${JSON.stringify(preset)}`);
  }

  const join = list('join');
  for (const seed of join) {
    const s = parseHostPort(seed, '--join');
    if (s.host === '') throw new UsageError(`--join: ${JSON.stringify(seed)} has no host`);
  }

  let http: { host: string; port: number } | undefined;
  const httpText = str('http');
  if (httpText !== undefined) {
    const h = parseHostPort(httpText, '--http');
    if (h.port === undefined) throw new UsageError(`--http needs a port, e.g. 127.0.0.1:8080 or :8080; got ${JSON.stringify(httpText)}`);
    http = { host: h.host === '' ? '127.0.0.1' : h.host, port: h.port };
  }

  const logLevel = str('log-level') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}; got ${JSON.stringify(logLevel)}`);
  }
  const logFormat = str('log-format') ?? 'json';
  if (logFormat !== 'json' && logFormat !== 'pretty') {
    throw new UsageError(`--log-format must be json or pretty; got ${JSON.stringify(logFormat)}`);
  }

  let leaveTimeoutMs: number | undefined;
  const leaveText = str('leave-timeout');
  if (leaveText !== undefined) {
    if (!/^\d+$/.test(leaveText) || Number(leaveText) > 2_147_483_647) {
      throw new UsageError(`--leave-timeout must be a whole number of milliseconds; got ${JSON.stringify(leaveText)}`);
    }
    leaveTimeoutMs = Number(leaveText);
  }

  const config: Record<string, unknown> = {};
  const reserved = new Set(['name', 'bindAddr', 'bindPort', 'advertiseAddr', 'advertisePort', 'secretKey', 'label', 'profile']);
  for (const pair of list('set')) {
    const i = pair.indexOf('=');
    if (i <= 0) throw new UsageError(`--set needs KEY=VALUE; got ${JSON.stringify(pair)}`);
    const key = pair.slice(0, i).trim();
    if (reserved.has(key)) throw new UsageError(`--set ${key}: use the dedicated flag instead (see --help)`);
    const raw = pair.slice(i + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // Not JSON: keep the text.
    }
    config[key] = value;
  }

  const name = str('name');
  if (name !== undefined && name.trim() === '') throw new UsageError('--name must not be empty');
  const keyFile = str('key-file');
  const label = str('label');
  const meta = str('meta');
  return {
    ...(name !== undefined ? { name } : {}),
    bindAddr,
    bindPort,
    ...(advertiseAddr !== undefined ? { advertiseAddr } : {}),
    ...(advertisePort !== undefined ? { advertisePort } : {}),
    join,
    profile: preset as Profile,
    ...(keyFile !== undefined ? { keyFile } : {}),
    ...(label !== undefined ? { label } : {}),
    ...(meta !== undefined ? { meta } : {}),
    ...(Object.keys(config).length > 0 ? { config } : {}),
    logLevel: logLevel as LogLevel,
    logFormat: logFormat as LogFormat,
    ...(http !== undefined ? { http } : {}),
    ...(leaveTimeoutMs !== undefined ? { leaveTimeoutMs } : {}),
  };
}

// ───── members ─────

async function membersCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, {
    http: { type: 'string' },
    json: { type: 'boolean' },
    timeout: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values['help'] === true) {
    io.stdout.write(MEMBERS_HELP);
    return 0;
  }
  const httpText = values['http'];
  if (typeof httpText !== 'string') throw new UsageError('--http ADDR:PORT is required (the agent\'s --http address)');
  const timeoutText = typeof values['timeout'] === 'string' ? values['timeout'] : '5000';
  if (!/^\d+$/.test(timeoutText) || Number(timeoutText) < 1) {
    throw new UsageError(`--timeout must be a positive whole number of milliseconds; got ${JSON.stringify(timeoutText)}`);
  }
  const url = membersUrl(httpText);
  const members = await fetchMembers(url, Number(timeoutText));
  if (values['json'] === true) {
    io.stdout.write(`${JSON.stringify(members, null, 2)}\n`);
    return 0;
  }
  const colour = io.stdout.isTTY === true && (io.env?.['NO_COLOR'] ?? '') === '';
  io.stdout.write(formatMembersTable(members, colour));
  return 0;
}

/** The /members URL for an --http argument: "host:port", ":port" (127.0.0.1) or an http(s) URL. */
export function membersUrl(text: string): URL {
  if (/^https?:\/\//i.test(text)) {
    let base: URL;
    try {
      base = new URL(text);
    } catch {
      throw new UsageError(`--http: ${JSON.stringify(text)} is not a URL`);
    }
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    return new URL('members', base);
  }
  const { host, port } = parseHostPort(text.replace(/\/+$/, ''), '--http');
  if (port === undefined) throw new UsageError(`--http needs a port, e.g. 127.0.0.1:8080; got ${JSON.stringify(text)}`);
  const h = host === '' ? '127.0.0.1' : host;
  return new URL(`http://${isIP(h) === 6 ? `[${h}]` : h}:${parsePort(String(port), '--http')}/members`);
}

async function fetchMembers(url: URL, timeoutMs: number): Promise<MemberView[]> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (err) {
    throw new AgentError(`cannot reach ${url.href}: ${fetchFailure(err, timeoutMs)}`);
  }
  if (!res.ok) throw new AgentError(`${url.href} answered HTTP ${res.status}; is it a memberlist-ts agent's --http address?`);
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new AgentError(`${url.href} did not answer with JSON; is it a memberlist-ts agent's --http address?`);
  }
  if (!Array.isArray(body) || !body.every(isMemberView)) {
    throw new AgentError(`${url.href} did not answer with a member list; is it a memberlist-ts agent's --http address?`);
  }
  return body;
}

function isMemberView(v: unknown): v is MemberView {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o['name'] === 'string' && typeof o['address'] === 'string' && typeof o['state'] === 'string' && typeof o['incarnation'] === 'number';
}

function fetchFailure(err: unknown, timeoutMs: number): string {
  const e = err as { name?: unknown; cause?: { code?: unknown; message?: unknown }; message?: unknown };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  if (typeof e.cause?.code === 'string') return e.cause.code;
  if (typeof e.cause?.message === 'string') return e.cause.message;
  return typeof e.message === 'string' ? e.message : String(err);
}

const STATE_COLOURS: Readonly<Record<string, string>> = { alive: '32', suspect: '33', dead: '31', left: '90' };

/** The member table: NAME ADDRESS STATE INCARNATION HEALTH META, columns padded to fit. */
export function formatMembersTable(members: readonly MemberView[], colour = false): string {
  const header = ['NAME', 'ADDRESS', 'STATE', 'INCARNATION', 'HEALTH', 'META'];
  const rows = members.map((m) => [
    m.local ? `${m.name} *` : m.name,
    m.address,
    m.state,
    String(m.incarnation),
    healthText(m.health),
    m.metaText === null || m.metaText === undefined ? `(${Buffer.from(m.meta ?? '', 'base64').length} bytes)` : m.metaText === '' ? '-' : m.metaText,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[], paint: boolean): string =>
    cells
      .map((c, i) => {
        const padded = i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0);
        return paint && i === 2 && STATE_COLOURS[c] !== undefined ? `\x1b[${STATE_COLOURS[c]}m${padded}\x1b[0m` : padded;
      })
      .join('  ')
      .trimEnd();
  const counts = new Map<string, number>();
  for (const m of members) counts.set(m.state, (counts.get(m.state) ?? 0) + 1);
  const summary = [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
  return `${[line(header, false), ...rows.map((r) => line(r, colour))].join('\n')}\n${members.length} member(s)${summary ? `: ${summary}` : ''}; * = the agent answering\n`;
}

// ───── shared ─────

type ParseOptions = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

/** parseArgs (strict, no positionals) with its errors turned into one-line UsageErrors. */
function parse(args: readonly string[], options: ParseOptions): { values: Record<string, unknown> } {
  try {
    const { values } = parseArgs({ args: [...args], options, strict: true, allowPositionals: false });
    return { values: values as Record<string, unknown> };
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    const message = typeof e.message === 'string' ? e.message : String(err);
    switch (e.code) {
      case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
        const m = /'([^']+)'/.exec(message);
        throw new UsageError(`unknown option ${m ? JSON.stringify(m[1]) : ''}`.trim());
      }
      case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': {
        const m = /'([^']+)'/.exec(message);
        throw new UsageError(`unexpected argument ${m ? JSON.stringify(m[1]) : ''}`.trim());
      }
      case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
        throw new UsageError(message.replace(/\.$/, '').replace(/^Option '([^']+)'/, "option '$1'"));
      default:
        throw new UsageError(message.split('\n')[0] ?? message);
    }
  }
}

/** Prints one line for `err` and returns its exit code: 2 for usage errors, 1 otherwise. */
function reportError(err: unknown, command: string, io: CliIo): number {
  const where = command === '' ? PROG : `${PROG} ${command}`;
  const debug = (io.env?.['MEMBERLIST_TS_DEBUG'] ?? '') !== '';
  if (err instanceof UsageError) {
    io.stderr.write(`${where}: ${err.message} (see "${where} --help")\n`);
    return 2;
  }
  if (err instanceof AgentError || err instanceof MemberlistError) {
    io.stderr.write(`${where}: ${oneLine(err.message)}\n`);
    if (debug && err.stack) io.stderr.write(`${err.stack}\n`);
    return 1;
  }
  const message = err instanceof Error ? err.message : String(err);
  io.stderr.write(`${where}: unexpected error: ${oneLine(message)}${debug ? '' : ' (MEMBERLIST_TS_DEBUG=1 shows details)'}\n`);
  if (debug && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
  return 1;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

function version(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg: unknown = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8'));
      const p = pkg as { name?: unknown; version?: unknown };
      if (p.name === 'memberlist-ts' && typeof p.version === 'string') return p.version;
    } catch {
      // Try the next layout (src/agent vs dist/src/agent).
    }
  }
  return 'unknown';
}

/**
 * Runs the CLI for this process: process.argv, stdio, signals; sets the exit code. Faults that
 * escape everything else (bugs) still print one line, not a stack trace.
 */
export async function runCli(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env };
  const lastResort = (err: unknown): void => {
    reportError(err, '', io);
    process.exit(1);
  };
  process.on('uncaughtException', lastResort);
  process.on('unhandledRejection', lastResort);
  const code = await main(argv, io);
  process.exitCode = code;
  // Everything the agent opened is closed by now; should anything still hold the loop, do not hang.
  setTimeout(() => process.exit(code), 2000).unref();
}

function isMainModule(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMainModule()) void runCli();
