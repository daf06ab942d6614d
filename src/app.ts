import Fastify, { type FastifyInstance, type FastifyServerOptions, type LogLevel } from 'fastify'
import cookie from '@fastify/cookie'
import formbody from '@fastify/formbody'
import helmet from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
import fastifyStatic from '@fastify/static'
import swagger from '@fastify/swagger'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Config } from './config.js'
import { connectDatabase, pingDatabase, type DatabaseHandle } from './db/connect.js'
import { migrate } from './db/migrate.js'
import errorHandler, { sendError } from './http/error-handler.js'
import { AppError } from './http/errors.js'
import { applySecurityHeaders, securityHeaders } from './http/security-headers.js'
import { requireUtf8 } from './http/utf8.js'
import { createRateLimits } from './http/rate-limits.js'
import { EventLog } from './events/event-log.js'
import { EventFeed } from './events/feed.js'
import authPlugin, { type AuthPluginOptions } from './auth/plugin.js'
import authRoutes from './auth/routes.js'
import { AuthService } from './auth/service.js'
import { PasswordHasher } from './auth/passwords.js'
import { SessionSealer } from './auth/session-cookie.js'
import { pruneRevokedSessions } from './auth/users.js'
import { MembershipCache } from './poll/membership-cache.js'
import { PollEngine } from './poll/engine.js'
import { Presence } from './poll/presence.js'
import pollRoutes from './poll/routes.js'
import { RoomAccess } from './rooms/access.js'
import { RoomService } from './rooms/service.js'
import { roomIdsOf } from './rooms/repository.js'
import roomRoutes from './rooms/routes.js'
import { SendBatcher } from './messages/send-batcher.js'
import { MessageService } from './messages/service.js'
import messageRoutes from './messages/routes.js'

/**
 * Some corporate proxies drop PATCH and DELETE: a POST with
 * `X-HTTP-Method-Override: PATCH|DELETE` stands in for them. The method must
 * change before Fastify routes the request, hence here and not in a hook.
 * Fastify applies its timeout options only to servers it creates itself, so a
 * server factory must apply them: without this every socket could idle forever.
 */
function methodOverrideServer (handler: (req: IncomingMessage, res: ServerResponse) => void, options: FastifyServerOptions): Server {
  const server = createServer({
    requestTimeout: options.requestTimeout ?? 0,
    // Node checks request and header deadlines at this interval (30 s by
    // default, which would let a slow client stay far past its deadline).
    connectionsCheckingInterval: 1000
  }, (req, res) => {
    const override = req.headers['x-http-method-override']
    if (req.method === 'POST' && typeof override === 'string') {
      const method = override.trim().toUpperCase()
      if (method === 'PATCH' || method === 'DELETE') req.method = method
    }
    handler(req, res)
  })
  server.setTimeout(options.connectionTimeout ?? 0)
  if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout
  // Slow clients may not hold sockets open: headers must arrive promptly. Node
  // swaps the two limits when this one is the larger, so keep it within the request's.
  server.headersTimeout = Math.min(20000, options.requestTimeout ?? 20000)
  return server
}

const publicDir = fileURLToPath(new URL('../public/', import.meta.url))

/** The long-lived parts of a running app, exposed for tests and the stats route. */
export interface ChatServices {
  database: DatabaseHandle
  feed: EventFeed
  engine: PollEngine
  membership: MembershipCache
}

declare module 'fastify' {
  interface FastifyInstance {
    chat: ChatServices
  }
}

/**
 * With no SESSION_SECRET, one is made on first start and kept in the data
 * folder, so `npm start` needs no setup. Several nodes must share one instead.
 */
function sessionSecrets (config: Config, warn: (msg: string) => void): string[] {
  if (config.sessionSecrets !== undefined) return config.sessionSecrets
  const file = join(config.dataDir, 'session-secret')
  mkdirSync(config.dataDir, { recursive: true })
  if (!existsSync(file)) writeFileSync(file, randomBytes(48).toString('base64url'), { mode: 0o600 })
  warn(`SESSION_SECRET is not set: using the generated secret in ${file}. Several nodes need one shared SESSION_SECRET.`)
  return [readFileSync(file, 'utf8').trim()]
}

/** Builds the whole app without listening: the server entry point and the tests both call this. */
export async function buildApp (config: Config): Promise<FastifyInstance> {
  const apiPrefix = `${config.basePath}/api`
  const app = Fastify({
    logger: {
      level: config.logLevel,
      redact: ['req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]']
    },
    bodyLimit: config.bodyLimit,
    // Fastify takes a hop count too, though its types do not say so.
    trustProxy: config.trustProxy as boolean | string[],
    serverFactory: methodOverrideServer,
    // Idle sockets are closed, but never before a held poll would have answered.
    connectionTimeout: (config.pollMaxTimeout + 30) * 1000,
    // Longer than the idle timeouts of the proxies in front (nginx keeps 60 s).
    keepAliveTimeout: 65000,
    // Receiving a request (headers and body) must not take longer than this, so a
    // client that trickles its body cannot hold a socket and a parser for long.
    // Node stops this clock once the request is read: held polls are not cut.
    requestTimeout: config.requestTimeoutSeconds * 1000,
    // While closing, requests still arriving on open connections get the
    // contract's 503 with Retry-After from the hook below, not Fastify's own.
    return503OnClosing: false,
    pluginTimeout: 60000,
    // A URL that cannot be decoded is refused before any hook runs: answer it in
    // the contract's shape and with the same security headers as everything else.
    frameworkErrors: (err, request, reply) => {
      applySecurityHeaders(request.raw, reply.raw)
      return sendError(reply, new AppError('invalid', 'The request is not valid.', { fields: { url: err.message } }))
    },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 }
  })

  // External plugins first.
  await app.register(errorHandler)
  await app.register(cookie)
  await app.register(formbody, { bodyLimit: config.bodyLimit })
  // curl scripts send `Content-Type: application/json` with no body on bodiless
  // routes (logout, join, DELETE): read that as no body rather than refuse it.
  const jsonParser = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '' || (typeof body === 'string' && body.trim() === '')) { done(null, undefined); return }
    jsonParser(request, String(body), done)
  })
  await app.register(helmet, securityHeaders)
  app.addHook('preParsing', requireUtf8)
  await app.register(rateLimit, { global: false })
  await app.register(swagger, {
    openapi: {
      info: { title: 'Long-poll chat API', version: '1.0.0', description: 'See API.md: long-polling chat over plain HTTP.' },
      servers: [{ url: config.basePath === '' ? '/' : config.basePath }],
      components: {
        securitySchemes: {
          cookie: { type: 'apiKey', in: 'cookie', name: 'chat_session' },
          bearer: { type: 'http', scheme: 'bearer' }
        }
      },
      security: [{ cookie: [] }, { bearer: [] }]
    }
  })

  // The app's own services.
  const database = connectDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolSize, queueLimit: config.dbQueueLimit })
  try {
    const applied = await migrate(database.db, database.dialect, msg => app.log.info(msg))
    if (applied.length > 0) app.log.info({ applied }, 'database migrated')
  } catch (err) {
    await database.close()
    throw err
  }
  const { db, dialect } = database
  let engine: PollEngine | null = null
  const feed = new EventFeed({ db, log: app.log, intervalMs: config.feedIntervalMs, window: config.feedWindow, hasWaiters: () => (engine?.held ?? 0) > 0 })
  const eventLog = new EventLog(database, () => feed.wake())
  const membership = new MembershipCache(feed, async userId => await roomIdsOf(db, userId))
  engine = new PollEngine(feed, membership, {
    maxHeldPolls: config.maxHeldPolls,
    maxPollsPerUser: config.maxPollsPerUser,
    readVisible: async (after, upTo, userId, rooms, limit) => await feed.readVisible(after, upTo, userId, rooms, limit)
  })
  const pollEngine = engine
  const presence = new Presence(db, app.log, userId => pollEngine.registry.hasUser(userId))
  const auth = new AuthService({
    db,
    eventLog,
    sealer: new SessionSealer(sessionSecrets(config, msg => app.log.warn(msg)), config.sessionTtlSeconds),
    hasher: new PasswordHasher(config.passwordHashConcurrency),
    registration: config.registration,
    maxTokensPerUser: config.rateLimit.maxTokensPerUser
  })
  feed.onBatch(batch => auth.onFeedBatch(batch))
  const access = new RoomAccess(db)
  const rooms = new RoomService({ db, eventLog, access, maxRoomsPerUser: config.rateLimit.maxRoomsPerUser, isOnline: (id, seen) => presence.isOnline(id, seen) })
  const messages = new MessageService({ db, eventLog, access, batcher: new SendBatcher(eventLog), onEphemeral: () => feed.wake() })
  await feed.start()
  presence.start()
  const housekeeping = setInterval(() => {
    membership.evictIdle(userId => pollEngine.registry.hasUser(userId))
    messages.pruneEphemeral().catch(() => {})
    pruneRevokedSessions(db).catch(() => {})
    auth.housekeeping().catch(() => {})
  }, 60000)
  housekeeping.unref()

  app.decorate('chat', { database, feed, engine: pollEngine, membership })
  // Held polls answer at once on shutdown, so clients re-poll another node;
  // whatever still arrives on an open connection is sent there too.
  let closing = false
  let forceClose: NodeJS.Timeout | null = null
  app.addHook('preClose', async () => {
    closing = true
    pollEngine.releaseAll()
    // Node stops enforcing REQUEST_TIMEOUT once the server closes, so a client
    // trickling a body would hold the shutdown until the process is killed
    // with the database still open. Halfway through the grace period, cut it.
    forceClose = setTimeout(() => { app.server.closeAllConnections() }, config.shutdownTimeoutMs / 2)
    forceClose.unref()
  })
  app.addHook('onRequest', async () => {
    if (closing) throw new AppError('unavailable', 'This server is shutting down; try again.', { retryAfter: 1 })
  })
  app.addHook('onClose', async () => {
    if (forceClose !== null) clearTimeout(forceClose)
    clearInterval(housekeeping)
    presence.stop()
    await presence.flush()
    feed.close()
    await database.close()
  })

  const cookies: AuthPluginOptions = {
    auth,
    apiPrefix,
    cookiePath: `${config.basePath}/`,
    cookieMaxAge: config.sessionTtlSeconds - 60,
    allowedOrigins: config.allowedOrigins
  }
  await app.register(authPlugin, cookies)
  const limits = createRateLimits(app, config.rateLimit, db, dialect)

  // Routes.
  await app.register(async (api) => {
    api.addHook('onSend', async (request, reply, payload) => {
      if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store')
      return payload
    })
    api.get('/health', { config: { public: true }, schema: { tags: ['operations'], hide: false } }, async (request, reply) => {
      try {
        // A database that hangs rather than refuses must still turn health red.
        let timer: NodeJS.Timeout | undefined
        await Promise.race([
          pingDatabase(db),
          new Promise((resolve, reject) => { timer = setTimeout(() => reject(new Error('database did not answer within 3 s')), 3000) })
        ]).finally(() => clearTimeout(timer))
        return { status: 'ok' }
      } catch (err) {
        request.log.warn({ err }, 'health check: database unreachable')
        return sendError(reply, new AppError('unavailable', 'The database cannot be reached.', { retryAfter: 5 }))
      }
    })
    api.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger())
    if (config.exposeStats) {
      api.get('/debug/stats', { config: { public: true }, schema: { hide: true } }, async (request) => {
        // With node --expose-gc, `?gc=1` collects first, so heapUsed shows what is
        // really kept (leak checks), not what the collector has yet to reclaim.
        const gc = (globalThis as { gc?: () => void }).gc
        if ((request.query as { gc?: string }).gc === '1' && gc !== undefined) gc()
        const cpu = process.cpuUsage()
        const memory = process.memoryUsage()
        const connections = await new Promise<number>(resolve => app.server.getConnections((err, n) => resolve(err === null ? n : -1)))
        return { heldPolls: pollEngine.held, pollUsers: pollEngine.registry.userCount, connections, dbQueries: database.queryCount(), rss: memory.rss, heapUsed: memory.heapUsed, cpuUser: cpu.user, cpuSystem: cpu.system, feedHead: feed.head, cachedUsers: membership.size }
      })
    }
    await api.register(authRoutes, { auth, cookies, limits })
    await api.register(roomRoutes, { rooms })
    await api.register(messageRoutes, { messages, limits })
    await api.register(pollRoutes, { engine: pollEngine, presence, pollTimeout: config.pollTimeout, pollMaxTimeout: config.pollMaxTimeout, pollLogLevel: ['debug', 'trace'].includes(config.logLevel) ? config.logLevel as LogLevel : 'warn' })
  }, { prefix: apiPrefix })

  await app.register(fastifyStatic, { root: publicDir, prefix: `${config.basePath}/`, index: 'index.html', cacheControl: true, maxAge: 0 })
  if (config.basePath !== '') {
    // ignoreTrailingSlash makes this route match `/chat/` too: only the bare path
    // redirects (so relative URLs resolve under it); the slashed one is the client.
    app.get(config.basePath, { schema: { hide: true } }, async (request, reply) =>
      request.url.split('?')[0]?.endsWith('/') === true
        ? await reply.sendFile('index.html')
        : await reply.redirect(`${config.basePath}/`))
  }
  return app
}
