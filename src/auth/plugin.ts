import type {} from '@fastify/cookie'
import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { AppError } from '../http/errors.js'
import { isCrossOriginWrite } from '../http/csrf.js'
import type { AuthService, AuthUser } from './service.js'
import { sessionCookieName } from './session-cookie.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller, or null. */
    user: AuthUser | null
  }
  interface FastifyContextConfig {
    /** The route answers without credentials (they are still read when sent). */
    public?: boolean
    /** Credentials may be checked from memory (polls: kept fresh by the event stream). */
    authFromCache?: boolean
    /**
     * A bearer token memory accepts is taken from memory, marked `unverified`:
     * the handler checks it again in the transaction that acts on it (sends).
     * Memory's refusals and misses are read from the database, as on any route.
     */
    authFromCacheVerifiedLater?: boolean
    /** An account route: a bearer token gets 403, so a leaked token cannot take the account over. */
    sessionOnly?: boolean
  }
}

export interface AuthPluginOptions {
  auth: AuthService
  apiPrefix: string
  cookiePath: string
  cookieMaxAge: number
  allowedOrigins: string[]
}

/** The caller, or 401: for handlers of routes that are not public. */
export function requireUser (request: FastifyRequest): AuthUser {
  if (request.user === null) throw new AppError('unauthenticated', 'Sign in or send a bearer token.')
  return request.user
}

export function setSessionCookie (request: FastifyRequest, reply: FastifyReply, opts: AuthPluginOptions, value: string): void {
  reply.setCookie(sessionCookieName, value, {
    path: opts.cookiePath,
    httpOnly: true,
    sameSite: 'lax',
    // request.protocol follows X-Forwarded-Proto only when TRUST_PROXY trusts the sender.
    secure: request.protocol === 'https',
    maxAge: opts.cookieMaxAge
  })
}

export function clearSessionCookie (request: FastifyRequest, reply: FastifyReply, opts: AuthPluginOptions): void {
  reply.clearCookie(sessionCookieName, { path: opts.cookiePath, httpOnly: true, sameSite: 'lax', secure: request.protocol === 'https' })
}

const bearerPrefix = /^Bearer\s+/i

/** The token of an `Authorization: Bearer` header, or null. */
export function bearerOf (authorization: string | undefined): string | null {
  return authorization !== undefined && bearerPrefix.test(authorization) ? authorization.replace(bearerPrefix, '').trim() : null
}

/** What the route's rules make of the caller found (or not): an error to answer, or nothing. */
function verdict (config: FastifyContextConfig, bearer: string | null, user: AuthUser | null): AppError | undefined {
  if (bearer !== null) {
    if (user === null) return new AppError('unauthenticated', 'That token is not valid.')
    if (config.sessionOnly === true) return new AppError('forbidden', 'This route needs a signed-in session, not a token.')
    return undefined
  }
  if (user === null && config.public !== true) return new AppError('unauthenticated', 'Sign in or send a bearer token.')
  return undefined
}

/**
 * A route that checks the caller again in its own transaction (sends): a
 * bearer token memory accepts is taken from memory and marked `unverified`.
 * Not (all) in memory: what is missing is read, which fills memory for the
 * next request. A refusal is confirmed from the database alone.
 */
function bearerVerifiedLater (auth: AuthService, request: FastifyRequest, bearer: string, done: (err?: Error) => void): void {
  const config = request.routeOptions.config
  const accept = (user: AuthUser): void => {
    user.unverified = true
    request.user = user
    done(verdict(config, bearer, user))
  }
  const known = auth.cachedFromBearer(bearer)
  if (known !== undefined && known !== null) {
    accept(known)
    return
  }
  auth.fromBearer(bearer, true).then(async user => {
    if (user !== null) {
      accept(user)
      return
    }
    const fresh = await auth.fromBearer(bearer, false)
    request.user = fresh
    done(verdict(config, bearer, fresh))
  }).catch(done)
}

/**
 * Reads credentials on every API request, in one place: CSRF first (a browser
 * write from another origin never reaches a handler), then a bearer token or
 * the session cookie. Polls whose credentials memory already knows are
 * answered without a promise or a lookup beyond a map (a poll cycle is mostly this).
 */
export default fp(async function authPlugin (app: FastifyInstance, opts: AuthPluginOptions) {
  app.decorateRequest('user', null)

  const fromCookie = async (request: FastifyRequest, reply: FastifyReply, cookie: string, cached: boolean): Promise<AuthUser | null> => {
    const user = await opts.auth.fromCookie(cookie, cached)
    if (user !== null) {
      const fresh = await opts.auth.resealIfOld(cookie)
      if (fresh !== null) setSessionCookie(request, reply, opts, fresh)
    }
    return user
  }

  app.addHook('onRequest', (request, reply, done) => {
    // Static files need no credentials; unknown routes answer 404, not 401.
    const route = request.routeOptions.url
    if (route === undefined || !route.startsWith(opts.apiPrefix)) { done(); return }
    const config = request.routeOptions.config
    const bearer = bearerOf(request.headers.authorization)
    // A bearer token is no ambient credential: a page elsewhere cannot make a browser send it.
    if (bearer === null && isCrossOriginWrite(request, opts.allowedOrigins)) {
      done(new AppError('csrf', 'This request came from another site and was refused.'))
      return
    }
    const cached = config.authFromCache === true
    const cookie = bearer === null ? request.cookies[sessionCookieName] : undefined
    const hasCookie = cookie !== undefined && cookie !== ''
    if (bearer !== null && config.authFromCacheVerifiedLater === true) {
      bearerVerifiedLater(opts.auth, request, bearer, done)
      return
    }
    if (cached) {
      const known = bearer !== null ? opts.auth.cachedFromBearer(bearer) : hasCookie ? opts.auth.cachedFromCookie(cookie) : null
      if (known !== undefined) {
        request.user = known
        done(verdict(config, bearer, known))
        return
      }
    }
    const lookup = bearer !== null
      ? opts.auth.fromBearer(bearer, cached)
      : hasCookie ? fromCookie(request, reply, cookie, cached) : Promise.resolve(null)
    lookup.then(user => {
      request.user = user
      done(verdict(config, bearer, user))
    }, done)
  })
}, { name: 'auth', dependencies: ['@fastify/cookie'] })
