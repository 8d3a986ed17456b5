/**
 * Structured logging. Every record is one event: the message is a fixed event name
 * (`WS_START`, `STREAM_STATUS`…) and the values travel as fields. Child loggers carry
 * callSid/streamSid. Secrets are scrubbed twice: by field name and by known secret values,
 * so an auth token pasted into an error message still never reaches the log.
 */
import winston from 'winston';
import Transport from 'winston-transport';

/** The logger type used across the gateway (a winston logger). */
export type Logger = winston.Logger;

/** Field names whose values are never logged. */
const SECRET_FIELD = /(^|_|-)(token|secret|password|authorization|api[-_]?key|signature)$/i;
const REDACTED = '[redacted]';

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
}

/** Builds the process logger. JSON lines by default, readable lines with format 'pretty'. */
export function createLogger(opts: LoggerOptions): Logger {
  const secrets = (opts.secrets ?? []).filter((s): s is string => typeof s === 'string' && s.length >= 4);
  const redact = winston.format((info) => scrubRecord(info, secrets))();
  const shape =
    opts.format === 'pretty'
      ? winston.format.combine(winston.format.timestamp(), winston.format.printf(prettyLine))
      : winston.format.combine(winston.format.timestamp(), winston.format.json());
  return winston.createLogger({
    level: opts.level,
    defaultMeta: opts.defaultMeta,
    format: winston.format.combine(winston.format.errors({ stack: false }), redact, shape),
    transports: opts.transports ?? [new winston.transports.Console()],
  });
}

function prettyLine(info: winston.Logform.TransformableInfo): string {
  const { level, message, timestamp, ...fields } = info;
  const rest = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${String(timestamp)} ${level.toUpperCase().padEnd(5)} ${String(message)}${rest ? ' ' + rest : ''}`;
}

function scrubRecord(info: winston.Logform.TransformableInfo, secrets: string[]) {
  for (const key of Object.keys(info)) {
    if (key === 'level' || key === 'message') continue;
    info[key] = scrubValue(key, info[key], secrets, 0);
  }
  if (typeof info.message === 'string') info.message = scrubString(info.message, secrets);
  return info;
}

function scrubValue(key: string, value: unknown, secrets: string[], depth: number): unknown {
  if (SECRET_FIELD.test(key)) return REDACTED;
  if (typeof value === 'string') return scrubString(value, secrets);
  if (value instanceof Error) return scrubString(value.message, secrets);
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrubValue('', v, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubValue(k, v, secrets, depth + 1);
  return out;
}

function scrubString(s: string, secrets: string[]): string {
  let out = s;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
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
