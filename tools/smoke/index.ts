/**
 * The smoke checks as a library: {@link runSmoke} returns structured results (tests call it
 * in-process), {@link runCli} is the whole command line, `tools/smoke.ts` only starts it.
 */
export { runCli, type CliOutput } from './cli.ts';
export { DEFAULT_TIMEOUT_MS, parseSmokeArgs, USAGE, type ParsedArgs, type SmokeOptions } from './options.ts';
export {
  formatNote,
  formatStep,
  formatSummary,
  STEP_NAMES,
  type SmokeReport,
  type StepName,
  type StepResult,
  type StepStatus,
} from './report.ts';
export { runSmoke, SUBPROTOCOL, UNKNOWN_WS_PATH, type SmokeHooks } from './run.ts';
