import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { RateLimitConfig } from '../config.js'
import type { Db, Dialect } from '../db/connect.js'
import { AppError } from './errors.js'
import { DatabaseRateLimitStore } from './rate-limit-store.js'

type Hook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>

/** The rate-limit hooks routes attach. Every limit is configurable (README lists them). */
export interface RateLimits {
  register: Hook
  loginByAddress: Hook
  loginByUsername: Hook
  loginByUser: Hook
  tokens: Hook
  send: Hook
  /** Routes that tell whether a user or room exists (direct rooms, member lists, room creation): limited per account. */
  lookup: Hook
}

const noLimit: Hook = async () => {}

function builder (_request: FastifyRequest, context: { ttl: number }): AppError {
  return new AppError('rate_limited', 'Too many requests; slow down.', { retryAfter: Math.max(1, Math.ceil(context.ttl / 1000)) })
}

const userKey = (request: FastifyRequest): string => `u${request.user?.id ?? request.ip}`

export function createRateLimits (app: FastifyInstance, config: RateLimitConfig, db: Db, dialect: Dialect): RateLimits {
  if (config.disabled) return { register: noLimit, loginByAddress: noLimit, loginByUsername: noLimit, loginByUser: noLimit, tokens: noLimit, send: noLimit, lookup: noLimit }
  // Per-process limits, in @fastify/rate-limit's memory store.
  const local = (max: number, seconds: number, keyGenerator: (r: FastifyRequest) => string): Hook =>
    app.rateLimit({ max, timeWindow: seconds * 1000, keyGenerator, errorResponseBuilder: builder }) as unknown as Hook
  // Password guessing must be slowed on every node at once: that store is the database.
  // These hooks call the store themselves, because @fastify/rate-limit's
  // `rateLimit()` hooks ignore a per-hook `store` (they all use the plugin's
  // memory store) and let only the first of them run per request, which
  // silently disabled the per-username login limit behind the per-address one.
  const store = new DatabaseRateLimitStore(db, dialect)
  const shared = (max: number, seconds: number, keyGenerator: (r: FastifyRequest) => string): Hook => async (request) => {
    const hit = await store.hit(keyGenerator(request), seconds * 1000)
    if (hit.current > max) throw builder(request, hit)
  }
  return {
    register: shared(config.registerMax, config.registerWindowSeconds, r => `register:${r.ip}`),
    loginByAddress: shared(config.loginMax, config.loginWindowSeconds, r => `login-ip:${r.ip}`),
    // Per username too, so spreading guesses over many addresses does not help; the
    // window is short, so an attacker can slow a user's sign-in, not lock it out for long.
    loginByUsername: shared(config.loginMax, config.loginWindowSeconds, r => {
      const body = r.body as { username?: unknown } | undefined
      return `login-user:${typeof body?.username === 'string' ? body.username.toLowerCase().slice(0, 64) : ''}`
    }),
    loginByUser: shared(config.loginMax, config.loginWindowSeconds, r => `password:${userKey(r)}`),
    tokens: local(config.tokenMax, config.tokenWindowSeconds, r => `tokens:${userKey(r)}`),
    send: local(config.sendMax, config.sendWindowSeconds, r => `send:${userKey(r)}`),
    lookup: local(config.lookupMax, config.lookupWindowSeconds, r => `lookup:${userKey(r)}`)
  }
}
