/**
 * Structured logging. Every record is one event: the message is a fixed event name
 * (`WS_START`, `STREAM_STATUS`…) and the values travel as fields. Child loggers carry
 * callSid/streamSid. Secrets are scrubbed twice: by field name and by known secret values,
 * so an auth token pasted into an error message still never reaches the log.
 *
 * Nothing a client sends can make a record big: every string is cut to {@link LOG_STRING_MAX}
 * characters (its original length is appended), keys, arrays, objects and nesting are capped
 * too. Phone numbers in fields named like Twilio's (`from`, `to`, `caller`, `called`…) are
 * masked unless the logger is told to keep them.
 */
import winston from 'winston';
import Transport from 'winston-transport';
import type { LogEvent } from './log-events.ts';
import type { FieldsOf } from './log-fields.ts';

/** Fields of a log record. */
export type LogFields = Record<string, unknown>;
/** A level the gateway logs at. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/**
 * The logger the gateway uses: a winston logger seen through a narrower type, so every record's
 * message is an event name from the catalogue (server/log-events.ts), and the events programs read
 * carry exactly their typed fields (server/log-fields.ts).
 */
export interface Logger {
  error<E extends LogEvent>(event: E, fields?: FieldsOf<E>): unknown;
  warn<E extends LogEvent>(event: E, fields?: FieldsOf<E>): unknown;
  info<E extends LogEvent>(event: E, fields?: FieldsOf<E>): unknown;
  debug<E extends LogEvent>(event: E, fields?: FieldsOf<E>): unknown;
  log<E extends LogEvent>(level: LogLevel, event: E, fields?: FieldsOf<E>): unknown;
  child(meta: LogFields): Logger;
  isLevelEnabled(level: LogLevel): boolean;
  silent: boolean;
}

/** Field names whose values are never logged. */
const SECRET_FIELD = /(^|_|-)(token|secret|password|authorization|api[-_]?key|signature)$/i;
const REDACTED = '[redacted]';

/** Longest string logged as is; longer ones are cut and get `…[N chars]` (N the original length). */
export const LOG_STRING_MAX = 256;
/** Stack traces are worth more room. */
const STACK_MAX = 4096;
const KEY_MAX = 64;
const ITEMS_MAX = 50;
const DEPTH_MAX = 4;

/** Field names that carry phone numbers in Twilio's parameters and our logs. */
const NUMBER_FIELD = /^(from|to|caller|called|forwardedFrom|callerNumber|calledNumber)$/i;

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  level: string;
  format: 'json' | 'pretty';
  /** Literal values (auth token, API keys) that must never appear in any field. */
  secrets?: ReadonlyArray<string | undefined>;
  /** Extra transports, e.g. the in-memory capture used by tests. Default: the console. */
  transports?: winston.transport[];
  /** Fields put on every record. */
  defaultMeta?: Record<string, unknown>;
  /** Mask phone numbers in number fields (default true; `LOG_CALLER_NUMBERS=full` turns it off). */
  maskNumbers?: boolean;
}

/** Builds the process logger. JSON lines by default, readable lines with format 'pretty'. */
export function createLogger(opts: LoggerOptions): Logger {
  const secrets = (opts.secrets ?? []).filter((s): s is string => typeof s === 'string' && s.length >= 4);
  const scrub: Scrub = { secrets, maskNumbers: opts.maskNumbers ?? true };
  const redact = winston.format((info) => scrubRecord(info, scrub))();
  const shape =
    opts.format === 'pretty'
      ? winston.format.combine(winston.format.timestamp(), winston.format.printf(prettyLine))
      : winston.format.combine(winston.format.timestamp(), winston.format.json());
  const logger: Logger = winston.createLogger({
    level: opts.level,
    defaultMeta: opts.defaultMeta,
    format: winston.format.combine(winston.format.errors({ stack: false }), redact, shape),
    transports: opts.transports ?? [new winston.transports.Console()],
  });
  return logger;
}

function prettyLine(info: winston.Logform.TransformableInfo): string {
  const { level, message, timestamp, ...fields } = info;
  const rest = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${String(timestamp)} ${level.toUpperCase().padEnd(5)} ${String(message)}${rest ? ' ' + rest : ''}`;
}

interface Scrub {
  secrets: string[];
  maskNumbers: boolean;
}

function scrubRecord(info: winston.Logform.TransformableInfo, scrub: Scrub) {
  for (const key of Object.keys(info)) {
    if (key === 'level' || key === 'message') continue;
    const value = info[key];
    if (key.length > KEY_MAX) {
      delete info[key];
      info[cut(key, KEY_MAX)] = scrubValue(key, value, scrub, 0);
    } else info[key] = scrubValue(key, value, scrub, 0);
  }
  if (typeof info.message === 'string') info.message = cut(scrubString(info.message, scrub.secrets), LOG_STRING_MAX);
  return info;
}

function scrubValue(key: string, value: unknown, scrub: Scrub, depth: number): unknown {
  if (SECRET_FIELD.test(key)) return REDACTED;
  if (typeof value === 'string') {
    const clean = cut(scrubString(value, scrub.secrets), key === 'stack' ? STACK_MAX : LOG_STRING_MAX);
    return scrub.maskNumbers && NUMBER_FIELD.test(key) ? maskNumber(clean) : clean;
  }
  if (value instanceof Error) return cut(scrubString(value.message, scrub.secrets), LOG_STRING_MAX);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= DEPTH_MAX) return '[nested too deep]';
  if (Array.isArray(value)) {
    const items = value.slice(0, ITEMS_MAX).map((v) => scrubValue('', v, scrub, depth + 1));
    if (value.length > ITEMS_MAX) items.push(`…[${value.length} items]`);
    return items;
  }
  const out: Record<string, unknown> = {};
  const entries = Object.entries(value);
  for (const [k, v] of entries.slice(0, ITEMS_MAX)) out[cut(k, KEY_MAX)] = scrubValue(k, v, scrub, depth + 1);
  if (entries.length > ITEMS_MAX) out['…'] = `[${entries.length} keys]`;
  return out;
}

function scrubString(s: string, secrets: string[]): string {
  let out = s;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

/** `s` itself when short enough, else its first `max` characters and `…[N chars]`. */
function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…[${s.length} chars]`;
}

/**
 * A phone number with all but its first four and last two characters replaced by `*`
 * (`+972501234567` → `+972*******67`): enough to tell calls apart, not enough to call back.
 * Values of six characters or fewer are masked whole.
 */
export function maskNumber(value: string): string {
  if (value.length <= 6) return '*'.repeat(value.length);
  return value.slice(0, 4) + '*'.repeat(value.length - 6) + value.slice(-2);
}

/** A record as captured by {@link MemoryTransport}. */
export type LogRecord = { level: string; message: string } & Record<string, unknown>;

/** Keeps records in memory so tests can assert on parsed events rather than on text. */
export class MemoryTransport extends Transport {
  readonly records: LogRecord[] = [];
  override log(info: LogRecord, next: () => void): void {
    this.records.push({ ...info });
    next();
  }
  /** Records with the given event name. */
  events(name: string): LogRecord[] {
    return this.records.filter((r) => r.message === name);
  }
}
