import type { LogLevel } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import authPlugin, { type AuthPluginOptions } from '../auth/plugin.js'
import authRoutes from '../auth/routes.js'
import { createRateLimits } from '../http/rate-limits.js'
import messageRoutes from '../messages/routes.js'
import pollRoutes from '../poll/routes.js'
import roomRoutes from '../rooms/routes.js'
import attachmentRoutes from '../attachments/routes.js'
import searchRoutes from '../search/routes.js'
import webhooksPlugin from '../webhooks/plugin.js'
import adminRoutes from '../admin/routes.js'
import operationsRoutes from './operations.js'
import xmppPlugin from '../xmpp/plugin.js'

/**
 * Who is calling (cookie or bearer token, checked on every request), the rate
 * limits, and every route under `<BASE_PATH>/api`.
 */
export default fp(async function api (app, opts: { config: Config }) {
  const { config } = opts
  const { auth, rooms, messages, attachments, messageSearch, admin, engine, presence } = app
  const cookies: AuthPluginOptions = {
    auth,
    apiPrefix: `${config.basePath}/api`,
    cookiePath: `${config.basePath}/`,
    cookieMaxAge: config.sessionTtlSeconds - 60,
    allowedOrigins: config.allowedOrigins
  }
  await app.register(authPlugin, cookies)
  const limits = createRateLimits(app, config.rateLimit, app.database.db, app.database.dialect)

  await app.register(async (api) => {
    // A callback hook: no promise per answer.
    api.addHook('onSend', (_request, reply, payload, done) => {
      if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store')
      done(null, payload)
    })
    await api.register(operationsRoutes, { exposeStats: config.exposeStats })
    await api.register(authRoutes, { auth, cookies, limits })
    await api.register(roomRoutes, { rooms, limits })
    await api.register(messageRoutes, { messages, limits })
    await api.register(attachmentRoutes, { attachments, limits, maxBytes: config.attachments.maxBytes })
    await api.register(searchRoutes, { search: messageSearch })
    await api.register(webhooksPlugin, { config, apiPrefix: cookies.apiPrefix })
    await api.register(adminRoutes, { admin, basePath: config.basePath })
    await api.register(pollRoutes, { engine, presence, pollTimeout: config.pollTimeout, pollMaxTimeout: config.pollMaxTimeout, pollLogLevel: ['debug', 'trace'].includes(config.logLevel) ? config.logLevel as LogLevel : 'warn', auth, trustProxy: config.trustProxy })
  }, { prefix: cookies.apiPrefix })
  // XMPP over BOSH spends the same rate limits as the routes above (docs/XMPP.md).
  await app.register(xmppPlugin, { config, limits, prefix: config.basePath })
}, { name: 'api', dependencies: ['http', 'openapi', 'database', 'event-stream', 'services'] })
