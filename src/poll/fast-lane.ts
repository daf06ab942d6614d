import proxyAddr from '@fastify/proxy-addr'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AuthUser } from '../auth/credential-resolver.js'
import type { AuthService } from '../auth/service.js'
import { bearerOf } from '../auth/plugin.js'
import { sessionCookieName } from '../auth/session-cookie.js'
import type { RawLane } from '../http/raw-front.js'
import type { FastLane } from '../http/server.js'
import { RawPollReply, SocketPollReply } from './poll-reply.js'
import { cursorPattern, startPoll, type PollQuery, type PollStartDeps } from './poll-start.js'

export interface PollFastLaneOptions extends PollStartDeps {
  /** The poll route's full path, e.g. `/chat/api/poll`. */
  path: string
  auth: AuthService
  trustProxy: boolean | string[]
}

const timeoutValue = /^(?:0|[1-9][0-9]{0,5})$/
const limitValue = /^[1-9][0-9]{0,2}$/

/**
 * The query of `/poll?…` when every parameter is one the route knows, once,
 * in its plain form (what the web client and the curl recipes send); null for
 * anything else, which the route's own validation then judges.
 */
export function parsePollQuery (query: string): PollQuery | null {
  const out: PollQuery = { cursor: null, timeout: undefined, limit: undefined, away: false }
  if (query === '') return out
  let seen = 0
  for (const part of query.split('&')) {
    const eq = part.indexOf('=')
    const key = eq < 0 ? part : part.slice(0, eq)
    const value = eq < 0 ? '' : part.slice(eq + 1)
    const bit = key === 'cursor' ? 1 : key === 'timeout' ? 2 : key === 'limit' ? 4 : key === 'away' ? 8 : 0
    if (bit === 0 || (seen & bit) !== 0) return null
    seen |= bit
    if (bit === 1) {
      if (!cursorPattern.test(value)) return null
      out.cursor = Number(value)
    } else if (bit === 2) {
      if (!timeoutValue.test(value)) return null
      out.timeout = Number(value)
    } else if (bit === 4) {
      if (!limitValue.test(value) || Number(value) > 500) return null
      out.limit = Number(value)
    } else {
      if (value !== '0' && value !== '1') return null
      out.away = value === '1'
    }
  }
  return out
}

/** The session cookie's value when it is there in plain form (first one wins, as in @fastify/cookie); else undefined. */
export function plainSessionCookie (header: string | undefined): string | undefined {
  if (header?.includes(`${sessionCookieName}=`) !== true) return undefined
  for (const part of header.split(';')) {
    const trimmed = part.trim()
    if (!trimmed.startsWith(`${sessionCookieName}=`)) continue
    const value = trimmed.slice(sessionCookieName.length + 1)
    // Quoted or percent-encoded: the cookie parser decodes those; leave them to it.
    return value === '' || value.includes('%') || value.startsWith('"') ? undefined : value
  }
  return undefined
}

/**
 * The client's address as Fastify's `request.ip` gives it for this trustProxy
 * setting (fastify 5's lib/request.js: the socket's address, or the last
 * address proxy-addr accepts); test/poll/fast-lane.test.ts holds the two side by side.
 */
export function clientAddress (trustProxy: boolean | string[]): (remoteAddress: string | undefined, forwardedFor: string | string[] | undefined) => string {
  if (trustProxy === false) return remoteAddress => remoteAddress ?? ''
  const trust = trustProxy === true ? () => true : proxyAddr.compile(trustProxy)
  return (remoteAddress, forwardedFor) => {
    // proxy-addr reads only these two fields of the request.
    const request = { headers: { 'x-forwarded-for': forwardedFor }, socket: { remoteAddress } } as unknown as IncomingMessage
    const all = proxyAddr.all(request, trust)
    return all[all.length - 1] ?? ''
  }
}

/** The query of a poll to `path` the lanes may take (see parsePollQuery), else null. */
function pollQueryOf (path: string, url: string): PollQuery | null {
  if (!url.startsWith(path)) return null
  if (url.length > path.length && url.charCodeAt(path.length) !== 63 /* ? */) return null
  return parsePollQuery(url.slice(path.length + 1))
}

/** The caller when memory holds their credentials in plain form; undefined: the route looks them up or refuses. */
function cachedCaller (auth: AuthService, authorization: string | undefined, cookieHeader: string | undefined): AuthUser | undefined {
  if (authorization !== undefined) {
    const bearer = bearerOf(authorization)
    return bearer === null ? undefined : auth.cachedFromBearer(bearer) ?? undefined
  }
  const cookie = plainSessionCookie(cookieHeader)
  return cookie === undefined ? undefined : auth.cachedFromCookie(cookie) ?? undefined
}

/**
 * The poll route without Fastify, for what makes up nearly all of a busy
 * server's requests: `GET …/poll` with a plain query and credentials memory
 * already holds. Everything else (another method or path, an unusual query,
 * credentials to look up or refuse, a server shutting down) is left to
 * Fastify's route, which answers it the same way it always did. The lane
 * answers with the same status, headers and body the route would, and takes
 * no part in logging, so it is off when the poll route logs its requests.
 */
export function pollFastLane (opts: PollFastLaneOptions): FastLane {
  const { path, auth, engine } = opts
  const addressOf = clientAddress(opts.trustProxy)

  return (req: IncomingMessage, res: ServerResponse, handOver: (req: IncomingMessage, res: ServerResponse) => void): boolean => {
    const url = req.url
    if (req.method !== 'GET' || url === undefined || engine.closing) return false
    const query = pollQueryOf(path, url)
    if (query === null) return false
    const user = cachedCaller(auth, req.headers.authorization, req.headers.cookie)
    if (user === undefined) return false
    startPoll(opts, user.id, addressOf(req.socket.remoteAddress, req.headers['x-forwarded-for']), query, new RawPollReply(req, res, handOver))
    return true
  }
}

/**
 * The same lane for requests the raw front (src/http/raw-front.ts) reads off
 * a connection itself: the answer's bytes are written straight to the socket,
 * the same bytes Node's server would write; whatever the lane does not take,
 * or a poll that fails, goes to Node's server and Fastify's route untouched.
 */
export function pollRawLane (opts: PollFastLaneOptions): RawLane {
  const { path, auth, engine } = opts
  const addressOf = clientAddress(opts.trustProxy)

  return (head, exchange) => {
    if (engine.closing) return false
    const query = pollQueryOf(path, head.url)
    if (query === null) return false
    // The first poll on a connection often comes before memory knows its
    // credentials: looked up here, the connection can stay with this lane.
    const caller = cachedCaller(auth, head.authorization, head.cookie) ?? lookUpCaller(auth, head.authorization, head.cookie)
    if (caller === null) return false
    const reply = new SocketPollReply(exchange)
    const ip = addressOf(exchange.remoteAddress, head.forwardedFor)
    if (!(caller instanceof Promise)) {
      startPoll(opts, caller.id, ip, query, reply)
      return true
    }
    // No caller (refused credentials): the route answers the 401.
    caller.then(user => { if (user === null) reply.fail(); else startPoll(opts, user.id, ip, query, reply) })
      .catch(() => { reply.fail() })
    return true
  }
}

/**
 * The caller's credentials read as Fastify's auth hook reads a poll's; null
 * when only that hook may (no credentials, or a cookie it would seal again
 * with the current secret, which needs a Set-Cookie header).
 */
function lookUpCaller (auth: AuthService, authorization: string | undefined, cookieHeader: string | undefined): Promise<AuthUser | null> | null {
  if (authorization !== undefined) {
    const bearer = bearerOf(authorization)
    return bearer === null ? null : auth.fromBearer(bearer, true)
  }
  const cookie = plainSessionCookie(cookieHeader)
  return cookie === undefined || !auth.cookieIsCurrent(cookie) ? null : auth.fromCookie(cookie, true)
}
