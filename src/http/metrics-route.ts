import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface MetricsRouteOptions {
  /** The server's own registry (observability/metrics.ts). */
  registry: Registry;
  /** When set, /metrics answers only requests carrying `Authorization: Bearer <token>` (METRICS=token). */
  token: string | undefined;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * GET /metrics: Prometheus's text format, never stored by anyone
 * (`cache-control: no-store`). With a token, a request without it is
 * answered 401 with nothing of the metrics; the comparison takes the same
 * time whatever the token it is given.
 */
export function registerMetricsRoute(fastify: FastifyInstance, { registry, token }: MetricsRouteOptions): void {
  const expected = token === undefined ? undefined : digest(`Bearer ${token}`);
  fastify.get('/metrics', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    if (expected && !timingSafeEqual(digest(request.headers.authorization ?? ''), expected)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="metrics"')
        .type('text/plain; charset=utf-8')
        .send('401: /metrics needs Authorization: Bearer <METRICS_TOKEN>\n');
    }
    const text = await registry.metrics();
    return reply.type(registry.contentType).send(text);
  });
}
