import swagger from '@fastify/swagger'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { pingDatabase } from '../db/connect.js'
import { sendError } from '../http/error-handler.js'
import { AppError } from '../http/errors.js'
import { rawConnectionCount } from '../http/server.js'

/** Collects every route's schema into the OpenAPI document: registered before any route. */
export const openApi = fp(async function openApi (app, opts: { basePath: string }) {
  await app.register(swagger, {
    openapi: {
      info: { title: 'Long-poll chat API', version: '1.0.0', description: 'See API.md: long-polling chat over plain HTTP.' },
      servers: [{ url: opts.basePath === '' ? '/' : opts.basePath }],
      components: {
        securitySchemes: {
          cookie: { type: 'apiKey', in: 'cookie', name: 'chat_session' },
          bearer: { type: 'http', scheme: 'bearer' }
        }
      },
      security: [{ cookie: [] }, { bearer: [] }]
    }
  })
}, { name: 'openapi' })

/** Health, the OpenAPI document and (when asked) the stats benchmarks read. */
export default async function operationsRoutes (api: FastifyInstance, opts: { exposeStats: boolean }): Promise<void> {
  api.get('/health', { config: { public: true }, schema: { tags: ['operations'], hide: false } }, async (request, reply) => {
    try {
      // A database that hangs rather than refuses must still turn health red.
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        pingDatabase(api.database.db),
        new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error('database did not answer within 3 s')), 3000) })
      ]).finally(() => clearTimeout(timer))
      return { status: 'ok' }
    } catch (err) {
      request.log.warn({ err }, 'health check: database unreachable')
      return sendError(reply, new AppError('unavailable', 'The database cannot be reached.', { retryAfter: 5 }))
    }
  })
  api.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => api.swagger())
  if (opts.exposeStats) {
    api.get('/debug/stats', { config: { public: true }, schema: { hide: true } }, async (request) => {
      // With node --expose-gc, `?gc=1` collects first, so heapUsed shows what is
      // really kept (leak checks), not what the collector has yet to reclaim.
      const gc = (globalThis as { gc?: () => void }).gc
      if ((request.query as { gc?: string }).gc === '1' && gc !== undefined) gc()
      const cpu = process.cpuUsage()
      const memory = process.memoryUsage()
      const { engine, database, feed, membership, messages } = api
      const connections = await new Promise<number>(resolve => api.server.getConnections((err, n) => resolve(err === null ? n : -1)))
      // rawConnections: of those, the ones the raw front reads itself (src/http/raw-front.ts).
      return { heldPolls: engine.held, pollUsers: engine.registry.userCount, connections, rawConnections: rawConnectionCount(api.server), dbQueries: database.queryCount(), rss: memory.rss, heapUsed: memory.heapUsed, cpuUser: cpu.user, cpuSystem: cpu.system, feedHead: feed.head, cachedUsers: membership.size, sendBatches: messages.sendBatches }
    })
  }
}
