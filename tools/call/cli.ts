/**
 * The `npm run call` command line: parse arguments, load the caller's audio, run the call with live
 * timeline printing, print the summary, write `--out`. Exit codes: 0 the call completed with no
 * violations and the caller heard something; 1 anything else about the call; 2 bad arguments or an
 * unusable audio file.
 */
import { access, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildWav, WAV_FORMAT } from '../../media/audio/wav.ts';
import { AudioInputError, loadCallerAudio } from './audio.ts';
import { formatEntry, formatSummary, TIMELINE_HEADING } from './format.ts';
import { CALL_DEFAULTS, runCall } from './run-call.ts';
import type { CallEvent } from './timeline-entries.ts';
import type { CallOptions } from './types.ts';

/** Where the CLI writes; stdout for the report, stderr for errors. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

/** The usage text printed by `--help`. */
export const USAGE = `usage: npm run call -- --base URL --audio FILE [options]

Places one simulated Twilio call against a running gateway and reports what the caller heard.

  --base URL               where the gateway is reachable, e.g. http://localhost:5000
  --audio FILE             caller audio: .wav (any rate, mono/stereo, PCM/float/μ-law) or raw 8 kHz μ-law (.ulaw, .raw)
  --out FILE               write what the caller heard as an 8 kHz μ-law WAV
  --auth-token TOKEN       sign webhooks and the media upgrade (default: $TWILIO_AUTH_TOKEN)
  --public-base URL        the gateway's PUBLIC_BASE_URL: URLs are signed as this, requests go to --base
  --turns N                say the audio N times, each after the previous reply (default 1; 2 with barge-in)
  --barge-in-after-ms M    speak again M ms after each reply starts playing (interruption test)
  --greeting-wait-ms MS    longest wait for the greeting to finish (default ${CALL_DEFAULTS.greetingMaxWaitMs})
  --reply-wait-ms MS       longest wait for a reply to finish, from end of speech (default ${CALL_DEFAULTS.replyMaxWaitMs})
  --quiet-ms MS            silence after the agent's audio that ends its turn (default ${CALL_DEFAULTS.quietMs})
  --max-call-ms MS         hang up after this long (default ${CALL_DEFAULTS.maxCallMs})
  --from NUMBER, --to NUMBER   the From and To numbers (default ${CALL_DEFAULTS.from} → ${CALL_DEFAULTS.to})

Exit code: 0 the call completed, no protocol violations, the caller heard something; 1 otherwise; 2 bad usage.`;

const NUMBER_FLAGS = {
  turns: 'turns',
  'barge-in-after-ms': 'bargeInAfterMs',
  'greeting-wait-ms': 'greetingMaxWaitMs',
  'reply-wait-ms': 'replyMaxWaitMs',
  'quiet-ms': 'quietMs',
  'max-call-ms': 'maxCallMs',
} as const;

/** Thrown for anything the user has to fix in the command line. */
class UsageError extends Error {}

/**
 * Runs the CLI. Never throws for expected failures; returns the exit code.
 * @param env where `TWILIO_AUTH_TOKEN` is read from when `--auth-token` is not given.
 */
export async function runCli(argv: string[], io: CliIo, env: Record<string, string | undefined> = {}): Promise<number> {
  let parsed: { options: Omit<CallOptions, 'audio'>; audioPath: string; outPath: string | undefined } | undefined;
  try {
    parsed = parse(argv, env);
  } catch (err) {
    io.err(`call: ${(err as Error).message}`);
    io.err('run with --help for usage');
    return 2;
  }
  if (parsed === undefined) {
    io.out(USAGE);
    return 0;
  }
  const { options, audioPath, outPath } = parsed;
  let audio: Buffer;
  try {
    audio = await loadCallerAudio(audioPath);
    if (outPath !== undefined) await checkOutDir(outPath);
  } catch (err) {
    if (!(err instanceof AudioInputError || err instanceof UsageError)) throw err;
    io.err(`call: ${err.message}`);
    return 2;
  }

  io.out(`calling ${options.base} with ${audioPath} (${(audio.length / 8000).toFixed(2)} s of caller audio)`);
  let headed = false; // no heading when the call fails before the stream starts
  const onEvent = (e: CallEvent) => {
    if (!headed) io.out(TIMELINE_HEADING);
    headed = true;
    io.out(formatEntry(e));
  };
  let report;
  try {
    report = await runCall({ ...options, audio, onEvent });
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    io.err(`call: ${err.message}`);
    return 2;
  }
  for (const line of formatSummary(report, report.streamSid !== undefined ? outPath : undefined)) io.out(line);
  if (outPath !== undefined && report.streamSid !== undefined) {
    const wav = buildWav(report.heard, {
      formatTag: WAV_FORMAT.MULAW,
      channels: 1,
      sampleRate: 8000,
      bitsPerSample: 8,
    });
    try {
      await writeFile(outPath, wav);
    } catch (err) {
      io.err(`call: cannot write ${outPath}: ${(err as Error).message}`);
      return 1;
    }
  }
  return report.ok ? 0 : 1;
}

/** Fails before the call rather than after it, when `--out` could not be written anyway. */
async function checkOutDir(outPath: string): Promise<void> {
  const dir = dirname(resolve(outPath));
  try {
    await access(dir);
  } catch {
    throw new UsageError(`--out: directory ${dir} does not exist`);
  }
}

/** Returns undefined for `--help`. @throws UsageError (or parseArgs' TypeError) for bad arguments. */
function parse(argv: string[], env: Record<string, string | undefined>) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      base: { type: 'string' },
      audio: { type: 'string' },
      out: { type: 'string' },
      'auth-token': { type: 'string' },
      'public-base': { type: 'string' },
      turns: { type: 'string' },
      'barge-in-after-ms': { type: 'string' },
      'greeting-wait-ms': { type: 'string' },
      'reply-wait-ms': { type: 'string' },
      'quiet-ms': { type: 'string' },
      'max-call-ms': { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  if (values.base === undefined) throw new UsageError('--base is required (e.g. --base http://localhost:5000)');
  if (values.audio === undefined) throw new UsageError('--audio is required (a .wav or raw μ-law file)');
  if (!/^https?:\/\/[^/]+\/?$/.test(values.base))
    throw new UsageError(`--base must be an http(s) origin without a path, got ${values.base}`);
  const publicBase = values['public-base'];
  if (publicBase !== undefined && !/^https?:\/\/[^/]+\/?$/.test(publicBase)) {
    throw new UsageError(`--public-base must be an origin like https://gw.example.com, got ${publicBase}`);
  }
  const options: Omit<CallOptions, 'audio'> = { base: values.base.replace(/\/$/, '') };
  const authToken = values['auth-token'] ?? (env['TWILIO_AUTH_TOKEN'] || undefined);
  if (authToken !== undefined) options.authToken = authToken;
  if (publicBase !== undefined) options.publicBase = publicBase;
  if (values.from !== undefined) options.from = values.from;
  if (values.to !== undefined) options.to = values.to;
  for (const [flag, key] of Object.entries(NUMBER_FLAGS) as Array<
    [keyof typeof NUMBER_FLAGS, (typeof NUMBER_FLAGS)[keyof typeof NUMBER_FLAGS]]
  >) {
    const raw = values[flag];
    if (raw === undefined) continue;
    if (!/^\d+$/.test(raw)) throw new UsageError(`--${flag} must be a whole number, got ${JSON.stringify(raw)}`);
    const n = Number(raw);
    if (flag === 'turns' && n < 1) throw new UsageError('--turns must be at least 1');
    options[key] = n;
  }
  return { options, audioPath: values.audio, outPath: values.out };
}
