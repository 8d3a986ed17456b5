/**
 * Value parsers of the configuration: what a well-formed value of each kind looks like (whole
 * numbers, fractions, switches, word lists, URLs, host:port…). Each takes the raw environment
 * string and either transforms it into its typed value or adds a zod issue whose message says what
 * was expected; config/schema.ts pairs them with variable names and defaults.
 */
import { z } from 'zod';
import type { ReasoningEffort } from 'openai/resources/shared';

/** Whole, non-negative number written in decimal digits only ("450", not "450ms" or "4.5e2"). */
export const wholeNumber = (what: string) =>
  z.string().trim().regex(/^\d+$/, `expected a whole number of ${what}`).transform(Number);

/** A switch: true/false, 1/0, yes/no, on/off (any case). */
export const boolean = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'].includes(v), {
    message: 'expected true or false',
  })
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

/** host:port of a local emulator (plain gRPC, no TLS). */
export const hostPort = z
  .string()
  .trim()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:9001');

/**
 * An origin such as https://gw.example.com (no path, query or fragment): the gateway's routes
 * live at fixed paths under it, and Twilio signs the exact URL it requests.
 */
export const publicBaseUrl = z
  .string()
  .trim()
  .transform((v, ctx) => {
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'expected an absolute URL such as https://gw.example.com' });
      return z.NEVER;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      ctx.addIssue({ code: 'custom', message: 'expected an http(s) URL' });
      return z.NEVER;
    }
    if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username) {
      ctx.addIssue({ code: 'custom', message: 'expected only scheme and host (no path, query or credentials)' });
      return z.NEVER;
    }
    return url.origin;
  });

/** A number from 0 to 1 ("0.65"). */
export const fraction = z
  .string()
  .trim()
  .regex(/^(0(\.\d+)?|1(\.0+)?)$/, 'expected a number from 0 to 1, e.g. 0.65')
  .transform(Number);

/** A decimal number ("4.5"). */
export const decimal = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?$/, 'expected a number such as 4.5')
  .transform(Number);

/** Comma-separated words; an explicit empty list is written "none". */
export const wordList = z
  .string()
  .trim()
  .transform((v) =>
    v.toLowerCase() === 'none'
      ? []
      : v
          .split(',')
          .map((w) => w.trim())
          .filter(Boolean),
  );

/** Express's `trust proxy`: true/false, a hop count, or a list of addresses and subnet names. */
export const trustProxy = z
  .string()
  .trim()
  .transform((v): boolean | number | string => {
    const lower = v.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    if (/^\d+$/.test(v)) return Number(v);
    return v;
  });

/**
 * OPENAI_REASONING_EFFORT values: the installed SDK's `ReasoningEffort` (the type check below fails
 * the build when the SDK adds or drops one), plus `omit` = do not send the parameter (models and
 * OpenAI-compatible servers that do not reason refuse it).
 */
const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const;
type SdkEffort = NonNullable<ReasoningEffort>;
// Both directions: every SDK value is listed here, and nothing here is unknown to the SDK.
const _effortsMatchSdk: [SdkEffort, (typeof REASONING_EFFORTS)[number]] extends [
  (typeof REASONING_EFFORTS)[number],
  SdkEffort,
]
  ? true
  : never = true;
void _effortsMatchSdk;

/** A reasoning effort to send as `reasoning_effort`, or `omit`. */
export type OpenAIReasoningEffort = (typeof REASONING_EFFORTS)[number] | 'omit';

/** OPENAI_REASONING_EFFORT: one of the SDK's efforts, or `omit`. */
export const reasoningEffort = z.enum([...REASONING_EFFORTS, 'omit']);

/** TTS_STREAMING: 'auto', or a boolean word as for the other switches. */
export const ttsStreaming = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => v === 'auto' || ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'].includes(v), {
    message: 'expected auto, true or false',
  })
  .transform((v): 'auto' | boolean => (v === 'auto' ? 'auto' : ['true', '1', 'yes', 'on'].includes(v)));

/** `postgres://…` (or `postgresql://…`) switches the call store to PostgreSQL; nothing else is accepted. */
export const databaseUrl = z
  .string()
  .trim()
  .refine((v) => /^postgres(ql)?:\/\/[^\s]+$/.test(v), {
    message: 'expected a PostgreSQL URL such as postgres://user:pass@host:5432/db (unset means SQLite in DATA_DIR)',
  });

/** An absolute http(s) URL (the post-call webhook). */
export const httpUrl = z
  .string()
  .trim()
  .refine(
    (v) => {
      try {
        const u = new URL(v);
        return u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        return false;
      }
    },
    { message: 'expected an absolute http(s) URL such as https://crm.example.com/calls' },
  );
