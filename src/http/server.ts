import type { FastifyServerOptions } from 'fastify'
import fp from 'fastify-plugin'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Config } from '../config.js'
import { sendError } from './error-handler.js'
import { AppError } from './errors.js'
import { lazySerializers } from './lazy-schemas.js'
import { RawFront, type RawLane } from './raw-front.js'
import { applyApiSecurityHeaders } from './security-headers.js'
import { loggableError } from '../db/errors.js'

/**
 * Some corporate proxies drop PATCH and DELETE: a POST with
 * `X-HTTP-Method-Override: PATCH|DELETE` stands in for them. The method must
 * change before Fastify routes the request, hence here and not in a hook.
 * Fastify applies its timeout options only to servers it creates itself, so a
 * server factory must apply them: without this every socket could idle forever.
 */
/**
 * A handler that may take a request before Fastify sees it (true: taken). It
 * gets Fastify's handler to pass the request on later, untouched, if it
 * cannot finish it after all. See src/poll/fast-lane.ts.
 */
export type FastLane = (req: IncomingMessage, res: ServerResponse, handOver: (req: IncomingMessage, res: ServerResponse) => void) => boolean

const fastLaneOf = Symbol('fast lane')
const rawLaneOf = Symbol('raw lane')
const rawFrontOf = Symbol('raw front')
type LanedServer = Server & { [fastLaneOf]?: FastLane, [rawLaneOf]?: RawLane, [rawFrontOf]?: RawFront }

/** Installs the server's one fast lane (the server must come from serverOptions' factory). */
export function setFastLane (server: Server, lane: FastLane | undefined): void {
  (server as LanedServer)[fastLaneOf] = lane
}

export function getFastLane (server: Server): FastLane | undefined {
  return (server as LanedServer)[fastLaneOf]
}

/** Installs the lane for requests read straight off connections (raw-front.ts); connections made before keep their way. */
export function setRawLane (server: Server, lane: RawLane | undefined): void {
  (server as LanedServer)[rawLaneOf] = lane
}

export function getRawLane (server: Server): RawLane | undefined {
  return (server as LanedServer)[rawLaneOf]
}

/** How many connections the raw front reads itself (for tests). */
export function rawConnectionCount (server: Server): number {
  return (server as LanedServer)[rawFrontOf]?.size ?? 0
}

/**
 * Puts the raw front before Node's own connection handling: it reads each
 * new connection first and hands Node what its lane does not take. Node's
 * closing of idle (or all) connections reaches the front's connections too.
 */
function installRawFront (server: LanedServer): void {
  const nodeListener = server.listeners('connection')[0] as (socket: Socket) => void
  server.removeListener('connection', nodeListener)
  const front = new RawFront(server, nodeListener, () => server[rawLaneOf], {
    headersTimeoutMs: server.headersTimeout,
    keepAliveTimeoutMs: server.keepAliveTimeout
  })
  server[rawFrontOf] = front
  server.on('connection', (socket: Socket) => { front.accept(socket) })
  const closeIdle = server.closeIdleConnections.bind(server)
  const closeAll = server.closeAllConnections.bind(server)
  server.closeIdleConnections = () => { closeIdle(); front.closeIdle() }
  server.closeAllConnections = () => { closeAll(); front.closeAll() }
}

function methodOverrideServer (handler: (req: IncomingMessage, res: ServerResponse) => void, options: FastifyServerOptions): Server {
  const server: LanedServer = createServer({
    requestTimeout: options.requestTimeout ?? 0,
    // Node checks request and header deadlines at this interval (30 s by
    // default, which would let a slow client stay far past its deadline).
    connectionsCheckingInterval: 1000
  }, (req, res) => {
    const lane = server[fastLaneOf]
    if (lane !== undefined && lane(req, res, handler)) return
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
  installRawFront(server)
  return server
}

/** Fastify's options: logging, limits, and the HTTP server with its timeouts. */
export function serverOptions (config: Config): FastifyServerOptions {
  return {
    logger: {
      level: config.logLevel,
      redact: ['req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]'],
      // Database errors carry their statement and values: the log keeps neither.
      serializers: { err: loggableError }
    },
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
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
    // contract's 503 with Retry-After (the event stream plugin), not Fastify's own.
    return503OnClosing: false,
    pluginTimeout: 60000,
    // A URL that cannot be decoded is refused before any hook runs: answer it in
    // the contract's shape and with the security headers of every JSON answer.
    frameworkErrors: (err, _request, reply) => {
      applyApiSecurityHeaders(reply.raw)
      return sendError(reply, new AppError('invalid', 'The request is not valid.', { fields: { url: err.message } }))
    },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    schemaController: { compilersFactory: { buildSerializer: lazySerializers() } }
  }
}

/**
 * Node stops enforcing REQUEST_TIMEOUT once the server closes, so a client
 * trickling a body would hold the shutdown until the process is killed with the
 * database still open. Halfway through the grace period, cut every connection.
 */
export const connectionCutoff = fp(async function connectionCutoff (app, opts: { shutdownTimeoutMs: number }) {
  let timer: NodeJS.Timeout | null = null
  app.addHook('preClose', async () => {
    timer = setTimeout(() => { app.server.closeAllConnections() }, opts.shutdownTimeoutMs / 2)
    timer.unref()
  })
  app.addHook('onClose', async () => {
    if (timer !== null) clearTimeout(timer)
  })
}, { name: 'connection-cutoff' })
