/**
 * PREFLIGHT_ON_START=true: the preflight runs in the background once the gateway listens, and its
 * verdict goes to the log. Nothing waits for it: `/healthz` and calls are served while it runs, and
 * a NO-GO changes nothing but the log (an operator or an alert acts on `PREFLIGHT_FAILED`).
 */
import type { Agents } from '../../config/agents.ts';
import type { Config } from '../../config/config.ts';
import type { Logger } from '../../server/logger.ts';
import { runPreflight } from './preflight.ts';
import type { PreflightOptions, PreflightReport } from './preflight.ts';

/**
 * Starts the checks when `config.preflightOnStart` is set (returns undefined otherwise) and logs:
 * - `PREFLIGHT_STARTED` at once;
 * - `PREFLIGHT_OK` (info) with `ms` and `checks` (name, measured, and any warning), or
 * - `PREFLIGHT_FAILED` (error) with `ms`, `failed` (name, measured, variable, detail) and `checks`.
 * The returned promise never rejects; the gateway does not await it.
 */
export function preflightOnStart(
  config: Config,
  logger: Logger,
  agents?: Pick<Agents, 'byId'>,
  opts: Omit<PreflightOptions, 'agents'> = {},
): Promise<PreflightReport | undefined> | undefined {
  if (!config.preflightOnStart) return undefined;
  logger.info('PREFLIGHT_STARTED', { detail: 'provider checks run in the background; calls are served meanwhile' });
  return runPreflight(config, { ...opts, ...(agents ? { agents } : {}) }).then(
    (report) => {
      const checks = report.checks.map((c) => ({
        name: c.name,
        status: c.ok ? (c.warn ? 'WARN' : 'PASS') : 'FAIL',
        measured: c.measured,
        ...(c.warn ? { warn: c.warn, variable: c.variable } : {}),
      }));
      if (report.go) {
        logger.info('PREFLIGHT_OK', { ms: report.ms, warnings: report.warnings, checks });
      } else {
        const failed = report.checks
          .filter((c) => !c.ok)
          .map((c) => ({ name: c.name, measured: c.measured, variable: c.variable, detail: c.detail }));
        logger.error('PREFLIGHT_FAILED', { ms: report.ms, failed, checks });
      }
      return report;
    },
    (err: unknown) => {
      // runPreflight does not reject; this is a bug net, so a fault here never becomes an unhandled rejection.
      logger.error('PREFLIGHT_FAILED', { failed: [{ name: 'preflight', detail: String(err) }], checks: [] });
      return undefined;
    },
  );
}
