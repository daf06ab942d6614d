import type { FastifyInstance, LogLevel } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { requireUser } from '../auth/plugin.js'
import { addressKey } from '../http/address.js'
import { AppError } from '../http/errors.js'
import { sendPrebuiltJson } from '../http/prebuilt-json.js'
import { applySecurityHeaders } from '../http/security-headers.js'
import { ErrorSchema, EventSchema } from '../http/schemas.js'
import { ClientDeparture, type PollEngine } from './engine.js'
import type { Presence } from './presence.js'

export interface PollRoutesOptions {
  engine: PollEngine
  presence: Presence
  pollTimeout: number
  pollMaxTimeout: number
  /** The poll route's own log level (request logs of polls only at debug). */
  pollLogLevel: LogLevel
}

const cursorPattern = /^[0-9]{1,15}$/

const pollSchema = {
  tags: ['poll'],
  description: 'Long poll: the events after `cursor` visible to the caller, held until one arrives or `timeout` seconds pass.',
  querystring: Type.Object({
    cursor: Type.Optional(Type.String({ maxLength: 64, description: 'Opaque; from the previous answer. Without it: the current head.' })),
    // Out-of-range timeouts are capped rather than refused (the contract says so).
    timeout: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 }))
  }),
  response: {
    200: Type.Object({ events: Type.Array(EventSchema), cursor: Type.String(), hasMore: Type.Boolean() }),
    400: ErrorSchema,
    401: ErrorSchema,
    409: ErrorSchema,
    429: ErrorSchema,
    503: ErrorSchema
  }
}

export default async function pollRoutes (root: FastifyInstance, opts: PollRoutesOptions): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()
  const { engine, presence } = opts

  app.get('/poll', {
    config: { authFromCache: true },
    // The security headers are set when the answer goes out, not while the poll
    // is held: a dozen headers per parked request is memory held for nothing.
    helmet: false,
    // A busy server answers thousands of polls a second: logging each one at
    // info level would cost more than answering it. Failures are still logged.
    logLevel: opts.pollLogLevel,
    onSend: async (request, reply, payload) => {
      applySecurityHeaders(request.raw, reply.raw)
      return payload
    },
    schema: pollSchema
  }, async (request, reply) => {
    const user = requireUser(request)
    const { cursor: rawCursor, timeout, limit } = request.query
    if (rawCursor !== undefined && !cursorPattern.test(rawCursor)) {
      throw new AppError('invalid', 'That cursor is not one this server gave out.', { fields: { cursor: 'is malformed' } })
    }
    const timeoutSeconds = Math.min(timeout ?? opts.pollTimeout, opts.pollMaxTimeout)
    // The one exit for a client that goes away mid-hold: the engine forgets the poll at once.
    // (A plain object, not an AbortController: at 10,000 held polls its ~1 KB each counts.)
    const departure = new ClientDeparture()
    const onClose = (): void => { if (!reply.raw.writableFinished) departure.leave() }
    reply.raw.once('close', onClose)
    // The client may have gone while the auth hook awaited: 'close' has fired
    // already and would never reach the listener, leaving the poll held.
    if (request.raw.socket.destroyed) departure.leave()
    presence.touch(user.id)
    try {
      const answer = await engine.poll({
        userId: user.id,
        address: addressKey(request.ip),
        cursor: rawCursor === undefined ? null : Number(rawCursor),
        limit: limit ?? 100,
        timeoutMs: timeoutSeconds * 1000,
        departure
      })
      reply.header('cache-control', 'no-store').header('x-accel-buffering', 'no')
      return await sendPrebuiltJson(reply, `{"events":[${answer.events.join(',')}],"cursor":"${answer.cursor}","hasMore":${answer.hasMore}}`)
    } finally {
      reply.raw.removeListener('close', onClose)
    }
  })
}
