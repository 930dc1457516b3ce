/**
 * The agent: runs one node with the CLI's settings until a signal says stop.
 *
 * - Logs (pino) go to stderr, as JSON lines or, with `logFormat: 'pretty'`, one readable line each.
 * - stdout carries a few stable status lines for people and scripts:
 *     `memberlist-ts agent "NAME" listening on HOST:PORT (advertising HOST:PORT)`
 *     `memberlist-ts http status on http://HOST:PORT/`
 *     `memberlist-ts joined N seed address(es)`
 *     `memberlist-ts leaving the cluster (SIGTERM)` / `memberlist-ts left the cluster; exiting`
 * - SIGINT / SIGTERM: leave gracefully (broadcast our leave, wait up to leaveTimeoutMs), close the HTTP
 *   server, shut the node down, exit 0. A second signal meanwhile exits at once with 128 + signal
 *   number (130 for SIGINT, 143 for SIGTERM).
 * - Failures (key file, bind, join, HTTP bind) reject with an AgentError whose message is one line.
 */
import { readFile } from 'node:fs/promises';
import { pino, type DestinationStream, type Logger } from 'pino';
import { createNode, type MemberlistNode } from '../node.js';
import type { NodeConfigOptions, Profile } from '../config.js';
import { JoinError, MemberlistError } from '../errors.js';
import { ProtocolObserver } from '../observability/protocol-observer.js';
import { EventLoopDelayMonitor } from '../observability/event-loop.js';
import { AgentError, formatHostPort, resolveHost } from './address.js';
import { StatusServer } from './http-status.js';
import { prettyDestination } from './pretty-log.js';

export type LogFormat = 'json' | 'pretty';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export interface AgentOptions {
  /** Node name (default: the host name). */
  readonly name?: string;
  /** Bind address (IP literal or host name) and port. */
  readonly bindAddr: string;
  readonly bindPort: number;
  /** Address and port to advertise; host names are resolved. */
  readonly advertiseAddr?: string;
  readonly advertisePort?: number;
  /** Seeds: "host:port", "host" (bind port) or "[v6]:port"; host names resolve to all their addresses. */
  readonly join: readonly string[];
  readonly profile: Profile;
  /** A file holding a base64 AES key of 16, 24 or 32 bytes. */
  readonly keyFile?: string;
  readonly label?: string;
  /** Node metadata as UTF-8 text. */
  readonly meta?: string;
  /** Further config fields (from `--set key=value`), validated by resolveConfig. */
  readonly config?: Readonly<Record<string, unknown>>;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /** Where to serve HTTP status; nothing is bound without it. */
  readonly http?: { readonly host: string; readonly port: number };
  /** How long a graceful leave may take before we shut down anyway (default 5000 ms). */
  readonly leaveTimeoutMs?: number;
}

export interface AgentIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** Where signals come from (default: process). */
  readonly signals?: Pick<NodeJS.Process, 'on' | 'off'>;
  /** Exits at once on a second signal (default: process.exit). */
  readonly exit?: (code: number) => void;
}

const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15 } as const;
type StopSignal = keyof typeof SIGNAL_NUMBERS;

/** Reads a key file: base64 (surrounding whitespace ignored) of exactly 16, 24 or 32 bytes. */
export async function readKeyFile(path: string): Promise<Uint8Array> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new AgentError(`key file ${JSON.stringify(path)}: cannot read it${typeof code === 'string' ? ` (${code})` : ''}`);
  }
  const b64 = text.trim();
  const key = Buffer.from(b64, 'base64');
  // Buffer.from ignores what is not base64: a round trip tells a real key from garbage.
  const canonical = (s: string): string => s.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
  if (b64 === '' || canonical(key.toString('base64')) !== canonical(b64)) {
    throw new AgentError(`key file ${JSON.stringify(path)}: not base64 (expected a base64 key of 16, 24 or 32 bytes)`);
  }
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new AgentError(`key file ${JSON.stringify(path)}: the key is ${key.length} bytes; it must be 16, 24 or 32 (AES-128/192/256)`);
  }
  return new Uint8Array(key);
}

/** The agent's logger: JSON lines or pretty lines on `sink` (stderr). */
export function agentLogger(level: LogLevel, format: LogFormat, sink: { write(text: string): unknown }, colour = false): Logger {
  const destination: DestinationStream =
    format === 'pretty' ? prettyDestination(sink, { colour }) : { write: (line: string) => void sink.write(line) };
  return pino({ level, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}

/**
 * Runs the agent until a stop signal; resolves with the exit code (0 after a graceful leave).
 * Rejects with a one-line AgentError (or MemberlistError, e.g. a ConfigError) when it cannot start.
 */
export async function runAgent(options: AgentOptions, io: AgentIo): Promise<number> {
  const secretKey = options.keyFile !== undefined ? await readKeyFile(options.keyFile) : undefined;
  const bindAddr = await resolveHost(options.bindAddr, '--bind');
  const advertiseAddr = options.advertiseAddr !== undefined ? await resolveHost(options.advertiseAddr, '--advertise') : undefined;
  const colour = (io.stderr as { isTTY?: boolean }).isTTY === true;
  const logger = agentLogger(options.logLevel, options.logFormat, io.stderr, colour);
  const out = (line: string): void => void io.stdout.write(`memberlist-ts ${line}\n`);

  const nodeOptions: NodeConfigOptions & Record<string, unknown> = {
    ...(options.config ?? {}),
    profile: options.profile,
    bindAddr,
    bindPort: options.bindPort,
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(advertiseAddr !== undefined ? { advertiseAddr, advertisePort: options.advertisePort ?? options.bindPort } : {}),
    ...(secretKey !== undefined ? { secretKey } : {}),
    ...(options.label !== undefined ? { label: options.label } : {}),
  };
  let node: MemberlistNode;
  try {
    node = await createNode({
      ...nodeOptions,
      logger,
      ...(options.meta !== undefined ? { meta: new TextEncoder().encode(options.meta) } : {}),
      // The membership actor already logs joins, suspicions, failures and leaves; these add the rest.
      listeners: {
        alive: ({ member }) => logger.info({ member: member.name, incarnation: member.incarnation }, 'member refuted a suspicion'),
        conflict: ({ existing, other }) =>
          logger.warn({ member: other.name, existing: formatHostPort(existing.addr, existing.port), other: formatHostPort(other.addr, other.port) }, 'name conflict'),
        error: ({ error }) => logger.error({ err: error }, 'node error'),
      },
    });
  } catch (err) {
    throw startError(err, `cannot start the node on ${formatHostPort(bindAddr, options.bindPort)}`);
  }

  const observer = new ProtocolObserver();
  node.spawn(observer);
  const eventLoop = new EventLoopDelayMonitor().start();
  let http: StatusServer | undefined;
  const cleanup = async (): Promise<void> => {
    await http?.close();
    await node.shutdown();
    eventLoop.stop();
  };

  out(
    `agent ${JSON.stringify(node.name)} listening on ${formatHostPort(node.address.host, node.address.port)}` +
      ` (advertising ${formatHostPort(node.advertiseAddress.host, node.advertiseAddress.port)})`,
  );

  // Signals are handled from here on, so that a stop during a slow join still leaves cleanly.
  const signals = io.signals ?? process;
  const exit = io.exit ?? ((code: number) => process.exit(code));
  let stopping: StopSignal | undefined;
  let resolveStop: (signal: StopSignal) => void = () => {};
  const stopped = new Promise<StopSignal>((resolve) => (resolveStop = resolve));
  const onSignal = (signal: StopSignal): void => {
    if (stopping !== undefined) {
      out(`second ${signal}: exiting now`);
      logger.warn({ signal }, 'second signal: exiting without finishing the leave');
      exit(128 + SIGNAL_NUMBERS[signal]);
      return;
    }
    stopping = signal;
    resolveStop(signal);
  };
  const onInt = (): void => onSignal('SIGINT');
  const onTerm = (): void => onSignal('SIGTERM');
  signals.on('SIGINT', onInt);
  signals.on('SIGTERM', onTerm);
  const detach = (): void => {
    signals.off('SIGINT', onInt);
    signals.off('SIGTERM', onTerm);
  };

  try {
    if (options.http !== undefined) {
      try {
        http = await StatusServer.start({ node, host: options.http.host, port: options.http.port, observer, eventLoop, logger: logger.child({ component: 'http' }) });
      } catch (err) {
        throw startError(err, `cannot serve HTTP status on ${formatHostPort(options.http.host, options.http.port)}`);
      }
      out(`http status on ${http.url}`);
      logger.info({ url: http.url }, 'http status server listening');
    }
    if (options.join.length > 0 && stopping === undefined) {
      try {
        const reached = await node.join(options.join);
        out(`joined ${reached} seed address(es)`);
      } catch (err) {
        if (stopping === undefined) throw startError(err, 'join failed');
      }
    }
  } catch (err) {
    detach();
    await cleanup();
    throw err;
  }

  const signal = await stopped;
  out(`leaving the cluster (${signal})`);
  logger.info({ signal }, 'leaving the cluster');
  try {
    // The node logs it when the leave broadcast could not be confirmed (timeout, or nobody to tell).
    await node.leave(options.leaveTimeoutMs ?? 5000);
  } catch (err) {
    logger.warn({ err }, 'leave failed');
  }
  await cleanup();
  detach();
  out('left the cluster; exiting');
  return 0;
}

/** A one-line error for a start-up failure: our own errors keep their message, others get context. */
function startError(err: unknown, context: string): Error {
  if (err instanceof AgentError) return err;
  if (err instanceof JoinError) {
    const causes = err.causes.map((c) => `${tidySeed(c.seed)}: ${tidyCause(oneLine(c.error.message))}`).join('; ');
    return new AgentError(`join failed: no seed answered (${causes})`);
  }
  if (err instanceof MemberlistError) return new AgentError(oneLine(err.message));
  const e = err as { code?: unknown; message?: unknown };
  const detail = typeof e.code === 'string' ? e.code : typeof e.message === 'string' ? oneLine(e.message) : String(err);
  return new AgentError(`${context}: ${detail}`);
}

/** "a (a)" -> "a": the library names the seed and the address it resolved to, often the same. */
function tidySeed(seed: string): string {
  const m = /^(.*) \((.*)\)$/.exec(seed);
  return m !== null && m[1] === m[2] ? (m[1] ?? seed) : seed;
}

/** Collapses a cause that repeats its own prefix ("dial x failed: dial x failed: ECONNREFUSED"). */
function tidyCause(text: string): string {
  return text.replace(/((?:[^:]|:(?=\d))+: )\1+/g, '$1');
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
