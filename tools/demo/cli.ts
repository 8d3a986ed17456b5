/**
 * The `npm run demo` command line: parse arguments, run the demo with a live timeline, print the
 * results. Exit codes: 0 the call went through and the expected log flow was seen; 1 something
 * failed (the reasons are printed); 2 bad arguments; 130 interrupted.
 */
import { access } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatEntry, TIMELINE_HEADING } from '../call/format.ts';
import { formatResults, formatSetup, formatVerdict, TITLE } from './format.ts';
import { DEFAULT_OUT, runDemo } from './run-demo.ts';
import type { DemoSetup } from './run-demo.ts';

/** Where the CLI writes: stdout for the report, stderr for usage errors. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

/** The usage text printed by `--help`. */
export const USAGE = `usage: npm run demo [-- --out FILE] [--quiet] [--tone]

Starts the gateway with local emulators of Google Speech-to-Text, Google Text-to-Speech and OpenAI,
places one simulated Hebrew phone call, prints its timeline and the gateway's log flow, writes the
agent's reply to a WAV file, and shuts everything down. No accounts or network needed.

  --out FILE   where to write the reply audio (8 kHz μ-law WAV; default ${DEFAULT_OUT})
  --quiet      print only the flow check, the WAV, the shutdown and the result
  --tone       make the emulated TTS answer with a tone even when espeak-ng is installed

Exit code: 0 the call went through with the expected log flow; 1 something failed; 2 bad usage; 130 interrupted.`;

/** Exit codes of {@link runDemoCli}. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** What the entry point passes in besides the arguments. */
export interface CliContext {
  /** Aborting (Ctrl-C) hangs up and shuts everything down; the exit code is then 130. */
  signal?: AbortSignal;
  /** Relative `--out` paths resolve against this. Default `process.cwd()`. */
  cwd?: string;
  /** Told what is running once it is up (e.g. the gateway's pid, for a forced exit). */
  onReady?: (setup: DemoSetup) => void;
}

/** Runs the CLI; returns the exit code ({@link EXIT}). Never throws for expected failures. */
export async function runDemoCli(argv: string[], io: CliIo, ctx: CliContext = {}): Promise<number> {
  let args;
  let out: string;
  try {
    args = parse(argv);
    out = resolve(ctx.cwd ?? process.cwd(), args.out);
    const dir = dirname(out);
    await access(dir).catch(() => {
      throw new Error(`--out: directory ${dir} does not exist`);
    });
  } catch (err) {
    io.err(`demo: ${(err as Error).message}`);
    io.err('run with --help for usage');
    return EXIT.usage;
  }
  if (args.help) {
    io.out(USAGE);
    return EXIT.ok;
  }
  const { quiet } = args;
  if (!quiet) for (const line of [...TITLE, '', 'starting the emulators and the gateway…']) io.out(line);
  let headed = false;
  const report = await runDemo({
    outPath: out,
    voice: args.tone ? 'tone' : 'espeak',
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    onReady: (setup) => {
      ctx.onReady?.(setup);
      if (!quiet) for (const line of formatSetup(setup)) io.out(line);
    },
    onCallEvent: (e) => {
      if (quiet) return;
      if (!headed) io.out(TIMELINE_HEADING);
      headed = true;
      io.out(formatEntry(e));
    },
  });
  for (const line of quiet ? formatVerdict(report) : formatResults(report)) io.out(line);
  return report.interrupted ? EXIT.interrupted : report.ok ? EXIT.ok : EXIT.failed;
}

/** @throws Error (from parseArgs or here) for bad arguments. */
function parse(argv: string[]): { out: string; quiet: boolean; tone: boolean; help: boolean } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      out: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      tone: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.out !== undefined && values.out.trim() === '') throw new Error('--out needs a file name');
  return {
    out: values.out ?? DEFAULT_OUT,
    quiet: values.quiet ?? false,
    tone: values.tone ?? false,
    help: values.help ?? false,
  };
}
