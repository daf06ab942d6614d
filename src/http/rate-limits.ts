import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { RateLimitConfig } from '../config.js'
import type { Db, Dialect } from '../db/connect.js'
import { AppError } from './errors.js'
import { databaseRateLimitStore } from './rate-limit-store.js'

type Hook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>

/** The rate-limit hooks routes attach. Every limit is configurable (README lists them). */
export interface RateLimits {
  register: Hook
  loginByAddress: Hook
  loginByUsername: Hook
  loginByUser: Hook
  tokens: Hook
  send: Hook
}

const noLimit: Hook = async () => {}

function builder (request: FastifyRequest, context: { ttl: number }): AppError {
  return new AppError('rate_limited', 'Too many requests; slow down.', { retryAfter: Math.max(1, Math.ceil(context.ttl / 1000)) })
}

const userKey = (request: FastifyRequest): string => `u${request.user?.id ?? request.ip}`

export function createRateLimits (app: FastifyInstance, config: RateLimitConfig, db: Db, dialect: Dialect): RateLimits {
  if (config.disabled) return { register: noLimit, loginByAddress: noLimit, loginByUsername: noLimit, loginByUser: noLimit, tokens: noLimit, send: noLimit }
  // Password guessing must be slowed on every node at once: that store is the database.
  const shared = databaseRateLimitStore(db, dialect)
  const make = (max: number, seconds: number, keyGenerator: (r: FastifyRequest) => string, store?: typeof shared): Hook =>
    app.rateLimit({ max, timeWindow: seconds * 1000, keyGenerator, errorResponseBuilder: builder, ...(store === undefined ? {} : { store }) }) as unknown as Hook
  return {
    register: make(config.registerMax, config.registerWindowSeconds, r => `register:${r.ip}`, shared),
    loginByAddress: make(config.loginMax, config.loginWindowSeconds, r => `login-ip:${r.ip}`, shared),
    // Per username too, so spreading guesses over many addresses does not help; the
    // window is short, so an attacker can slow a user's sign-in, not lock it out for long.
    loginByUsername: make(config.loginMax, config.loginWindowSeconds, r => {
      const body = r.body as { username?: unknown } | undefined
      return `login-user:${typeof body?.username === 'string' ? body.username.toLowerCase().slice(0, 64) : ''}`
    }, shared),
    loginByUser: make(config.loginMax, config.loginWindowSeconds, r => `password:${userKey(r)}`, shared),
    tokens: make(config.tokenMax, config.tokenWindowSeconds, r => `tokens:${userKey(r)}`),
    send: make(config.sendMax, config.sendWindowSeconds, r => `send:${userKey(r)}`)
  }
}
