/**
 * CI's preflight: starts the three emulators (Google STT, Google TTS, OpenAI; strict, with their
 * defaults), runs `node tools/preflight.ts` against them as a child process with a clean
 * environment, and exits with the child's code (0 GO, 1 NO-GO, 2 bad arguments). Extra arguments
 * are passed on (`-- --json`).
 *
 * Run: `npm exec -- node tools/preflight/ci.ts [--json]` (a step of `.ci/run`).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startFakeOpenAI, startFakeStt, startFakeTts } from '../emulators/index.ts';

/** The repository root: where `tools/preflight.ts` is run from, as `npm run preflight` does. */
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A placeholder key the OpenAI emulator requires, so the key path is exercised as in production. */
const CI_OPENAI_KEY = 'sk-ci-preflight-0000000000000000';

/**
 * Starts the emulators, runs the preflight child with `args`, stops the emulators, and resolves
 * with the child's exit code (1 when it died by a signal).
 */
export async function runPreflightOnEmulators(args: readonly string[]): Promise<number> {
  const [stt, tts, openai] = await Promise.all([
    startFakeStt(),
    startFakeTts(),
    startFakeOpenAI({ apiKey: CI_OPENAI_KEY }),
  ]);
  try {
    const child = spawn(process.execPath, ['tools/preflight.ts', ...args], {
      cwd: REPO_ROOT,
      // Nothing inherited but PATH and HOME: a key or token in the CI shell can neither change the
      // run nor leak into its output. No metadata-server probe by Google's auth library.
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? '/tmp',
        METADATA_SERVER_DETECTION: 'none',
        GOOGLE_STT_EMULATOR_HOST: stt.address,
        GOOGLE_TTS_EMULATOR_HOST: tts.address,
        OPENAI_BASE_URL: openai.baseURL,
        OPENAI_API_KEY: CI_OPENAI_KEY,
      },
      stdio: 'inherit',
    });
    return await new Promise<number>((resolve) => {
      child.once('error', (err) => {
        process.stderr.write(`preflight ci: cannot start the preflight: ${err.message}\n`);
        resolve(1);
      });
      child.once('exit', (code) => resolve(code ?? 1));
    });
  } finally {
    await Promise.all([stt.close(), tts.close(), openai.close()]);
  }
}

if (import.meta.main) {
  process.exitCode = await runPreflightOnEmulators(process.argv.slice(2));
}
