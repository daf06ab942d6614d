import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { RateLimitConfig } from '../config.js'
import type { Db, Dialect } from '../db/connect.js'
import { addressKey } from './address.js'
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
  /** Wrong passwords per (username, address): growing delays, checked before any hashing. */
  loginFailures: { check: Hook, failed: (r: FastifyRequest) => Promise<void>, succeeded: (r: FastifyRequest) => Promise<void> }
  /** Password hashes in flight per address: taken just before hashing. */
  hashing: Hook
  /** Routes that tell whether a user or room exists (direct rooms, member lists, room creation): limited per account. */
  lookup: Hook
}

const noLimit: Hook = async () => {}
const noop = async (): Promise<void> => {}

function builder (_request: FastifyRequest, context: { ttl: number }): AppError {
  return new AppError('rate_limited', 'Too many requests; slow down.', { retryAfter: Math.max(1, Math.ceil(context.ttl / 1000)) })
}

const userKey = (request: FastifyRequest): string => `u${request.user?.id ?? addressKey(request.ip)}`

const loginName = (r: FastifyRequest): string => {
  const body = r.body as { username?: unknown } | undefined
  return typeof body?.username === 'string' ? body.username.toLowerCase().slice(0, 64) : ''
}

/** Seconds a sign-in waits after `failures` wrong passwords: none for the first few, then doubling, capped. */
export function loginDelaySeconds (failures: number, free: number, maxSeconds: number): number {
  return failures < free ? 0 : Math.min(maxSeconds, 2 ** (failures - free))
}

/**
 * In-memory count of password hashes in flight per address (each process hashes
 * on its own). The slot is given back when the answer is done or the client
 * gone, whichever way the request ends.
 */
function hashingSlots (max: number): Hook {
  const inFlight = new Map<string, number>()
  return async (request, reply) => {
    const key = addressKey(request.ip)
    const n = inFlight.get(key) ?? 0
    if (n >= max) throw new AppError('rate_limited', 'Too many sign-ins from your address at once; try again shortly.', { retryAfter: 2 })
    inFlight.set(key, n + 1)
    reply.raw.once('close', () => {
      const left = (inFlight.get(key) ?? 1) - 1
      if (left <= 0) inFlight.delete(key)
      else inFlight.set(key, left)
    })
  }
}

export function createRateLimits (app: FastifyInstance, config: RateLimitConfig, db: Db, dialect: Dialect): RateLimits {
  if (config.disabled) {
    return { register: noLimit, loginByAddress: noLimit, loginByUsername: noLimit, loginByUser: noLimit, tokens: noLimit, send: noLimit, loginFailures: { check: noLimit, failed: noop, succeeded: noop }, hashing: noLimit, lookup: noLimit }
  }
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
  // Failures are counted per (username, address), so a guesser slows only itself:
  // the owner signing in from elsewhere is not held up. Unknown usernames count
  // exactly like known ones, so the delays say nothing about who exists.
  const failureKey = (r: FastifyRequest): string => `login-fail:${loginName(r)}\n${addressKey(r.ip)}`
  const forgetMs = config.loginFailureForgetSeconds * 1000
  const loginFailures: RateLimits['loginFailures'] = {
    check: async (request) => {
      const seen = await store.peek(failureKey(request))
      if (seen === undefined) return
      const lastFailure = seen.resetAt - forgetMs
      const waitMs = lastFailure + loginDelaySeconds(seen.hits, config.loginFreeFailures, config.loginMaxDelaySeconds) * 1000 - Date.now()
      if (waitMs > 0) throw new AppError('rate_limited', 'Too many wrong passwords; wait before trying again.', { retryAfter: Math.ceil(waitMs / 1000) })
    },
    failed: async (request) => { await store.fail(failureKey(request), forgetMs) },
    succeeded: async (request) => { await store.clear(failureKey(request)) }
  }
  return {
    register: shared(config.registerMax, config.registerWindowSeconds, r => `register:${addressKey(r.ip)}`),
    loginByAddress: shared(config.loginMax, config.loginWindowSeconds, r => `login-ip:${addressKey(r.ip)}`),
    // A looser cap per username across all addresses, against guessing spread over
    // many of them; generous, so it cannot be used to keep the owner out.
    loginByUsername: shared(config.loginUserMax, config.loginWindowSeconds, r => `login-user:${loginName(r)}`),
    loginFailures,
    hashing: hashingSlots(config.hashingPerAddress),
    loginByUser: shared(config.loginMax, config.loginWindowSeconds, r => `password:${userKey(r)}`),
    tokens: local(config.tokenMax, config.tokenWindowSeconds, r => `tokens:${userKey(r)}`),
    send: local(config.sendMax, config.sendWindowSeconds, r => `send:${userKey(r)}`),
    lookup: local(config.lookupMax, config.lookupWindowSeconds, r => `lookup:${userKey(r)}`)
  }
}
