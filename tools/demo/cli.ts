/**
 * The `npm run demo` command line: parse arguments, run the demo with a live timeline, print the
 * results. Exit codes: 0 the call went through, the expected log flow and the four things the demo
 * shows were seen; 1 something failed (the reasons are printed); 2 bad arguments; 130 interrupted.
 */
import { access } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatEntry, TIMELINE_HEADING } from '../call/format.ts';
import { formatResults, formatSetup, formatVerdict, TITLE } from './format.ts';
import { DEFAULT_OUT, runDemo } from './run-demo.ts';
import type { DemoOptions, DemoSetup } from './run-demo.ts';

/** Where the CLI writes: stdout for the report, stderr for usage errors. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

/** The usage text printed by `--help`. */
export const USAGE = `usage: npm run demo [-- --out FILE] [--keep] [--quiet] [--tone]

Starts the gateway with its agents file (tools/demo/agents.yaml) and local emulators of Google
Speech-to-Text, Google Text-to-Speech, OpenAI and the business's CRM, places one simulated Hebrew
phone call, and shows: the caller greeted by the name the CRM has for their number, an appointment
booked through a tool call (with a filler while the CRM is slow), a transfer to a person (what
Twilio would dial, and the summary it whispers), and where to see the call (its console page and
API record). Prints the timeline and the gateway's log flow, writes what the caller heard to a WAV
file, and shuts everything down. No accounts or network needed.

  --out FILE   where to write what the caller heard (8 kHz μ-law WAV; default ${DEFAULT_OUT})
  --keep       keep the temporary call store (DATA_DIR) and print how to serve the call again
  --quiet      print only the four checks, the flow check, the WAV, the shutdown and the result
  --tone       make the emulated TTS answer with a tone even when espeak-ng is installed

Exit code: 0 the call went through and everything above was seen; 1 something failed; 2 bad usage; 130 interrupted.`;

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
  /** Handed to {@link runDemo}: the call's addresses, before the gateway stops (tests fetch them). */
  beforeShutdown?: DemoOptions['beforeShutdown'];
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
    keep: args.keep,
    ...(ctx.beforeShutdown ? { beforeShutdown: ctx.beforeShutdown } : {}),
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
function parse(argv: string[]): { out: string; quiet: boolean; tone: boolean; keep: boolean; help: boolean } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      out: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      tone: { type: 'boolean' },
      keep: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.out !== undefined && values.out.trim() === '') throw new Error('--out needs a file name');
  return {
    out: values.out ?? DEFAULT_OUT,
    quiet: values.quiet ?? false,
    tone: values.tone ?? false,
    keep: values.keep ?? false,
    help: values.help ?? false,
  };
}
