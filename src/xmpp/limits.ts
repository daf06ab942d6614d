import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AuthUser } from '../auth/service.js'
import type { RateLimits } from '../http/rate-limits.js'

/**
 * The HTTP API's own rate-limit hooks, called for XMPP actions: a stanza is
 * one more way to sign in or send, so it spends the same budget (the same
 * stores and keys) as the route it stands for. The hooks read only these
 * request fields.
 */
export interface XmppLimits {
  beforeLogin: (ip: string, username: string, reply: FastifyReply) => Promise<void>
  loginFailed: (ip: string, username: string) => Promise<void>
  loginSucceeded: (ip: string, username: string) => Promise<void>
  send: (user: AuthUser, ip: string, reply: FastifyReply) => Promise<void>
}

function requestLike (ip: string, fields: { username?: string, user?: AuthUser }): FastifyRequest {
  return { ip, body: { username: fields.username }, user: fields.user ?? null, routeOptions: { config: {} } } as unknown as FastifyRequest
}

export function xmppLimits (limits: RateLimits): XmppLimits {
  return {
    beforeLogin: async (ip, username, reply) => {
      const r = requestLike(ip, { username })
      await limits.loginByAddress(r, reply)
      await limits.loginByUsername(r, reply)
      await limits.loginFailures.check(r, reply)
      await limits.hashing(r, reply)
    },
    loginFailed: async (ip, username) => { await limits.loginFailures.failed(requestLike(ip, { username })) },
    loginSucceeded: async (ip, username) => { await limits.loginFailures.succeeded(requestLike(ip, { username })) },
    send: async (user, ip, reply) => { await limits.send(requestLike(ip, { user }), reply) }
  }
}
