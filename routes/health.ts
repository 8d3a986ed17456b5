/**
 * Health and version. `/healthz` does no I/O at all, so it answers in microseconds whatever the
 * providers are doing; it turns 503 the moment a drain starts so load balancers stop routing
 * new calls here.
 */
import { Router } from 'express';
import pkg from '../package.json' with { type: 'json' };
import { httpStatus } from '../server/errors.ts';

/** What the health routes need to know. */
export interface HealthDeps {
  isDraining: () => boolean;
  deployId: string;
  startedAt: Date;
}

/** `GET /healthz` and `GET /version`. */
export function healthRoutes(deps: HealthDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store');
    if (deps.isDraining()) res.status(httpStatus('HTTP_DRAINING')).type('text/plain').send('draining');
    else res.status(200).type('text/plain').send('ok');
  });
  router.get('/version', (_req, res) => {
    res.set('Cache-Control', 'no-store');
    res.json({
      deployId: deps.deployId,
      version: pkg.version,
      startedAt: deps.startedAt.toISOString(),
      node: process.version,
    });
  });
  return router;
}
