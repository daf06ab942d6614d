import type {} from '@fastify/cookie'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
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

/**
 * Reads credentials on every API request, in one place: CSRF first (a browser
 * write from another origin never reaches a handler), then a bearer token or
 * the session cookie.
 */
export default fp(async function authPlugin (app: FastifyInstance, opts: AuthPluginOptions) {
  app.decorateRequest('user', null)
  app.addHook('onRequest', async (request, reply) => {
    // Static files need no credentials; unknown routes answer 404, not 401.
    const route = request.routeOptions.url
    if (route === undefined || !route.startsWith(opts.apiPrefix)) return
    const config = request.routeOptions.config
    const authorization = request.headers.authorization
    const bearer = authorization !== undefined && /^Bearer\s+/i.test(authorization)
      ? authorization.replace(/^Bearer\s+/i, '').trim()
      : null
    // A bearer token is no ambient credential: a page elsewhere cannot make a browser send it.
    if (bearer === null && isCrossOriginWrite(request, opts.allowedOrigins)) {
      throw new AppError('csrf', 'This request came from another site and was refused.')
    }
    const cached = config.authFromCache === true
    if (bearer !== null) {
      request.user = await opts.auth.fromBearer(bearer, cached)
      if (request.user === null) throw new AppError('unauthenticated', 'That token is not valid.')
      if (config.sessionOnly === true) throw new AppError('forbidden', 'This route needs a signed-in session, not a token.')
      return
    }
    const cookie = request.cookies[sessionCookieName]
    if (cookie !== undefined && cookie !== '') {
      request.user = await opts.auth.fromCookie(cookie, cached)
      if (request.user !== null) {
        const fresh = await opts.auth.resealIfOld(cookie)
        if (fresh !== null) setSessionCookie(request, reply, opts, fresh)
      }
    }
    if (request.user === null && config.public !== true) throw new AppError('unauthenticated', 'Sign in or send a bearer token.')
  })
}, { name: 'auth', dependencies: ['@fastify/cookie'] })
