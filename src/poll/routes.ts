import type { FastifyInstance, LogLevel } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { requireUser } from '../auth/plugin.js'
import { AppError } from '../http/errors.js'
import { ErrorSchema, EventSchema } from '../http/schemas.js'
import { setFastLane, setRawLane } from '../http/server.js'
import { pollFastLane, pollRawLane, type PollFastLaneOptions } from './fast-lane.js'
import { PollReply } from './poll-reply.js'
import { cursorPattern, startPoll } from './poll-start.js'

/** The engine and its settings, plus what the fast lane needs: credentials from memory, and the client's address as Fastify sees it. */
export interface PollRoutesOptions extends Omit<PollFastLaneOptions, 'path'> {
  /** The poll route's own log level (request logs of polls only at debug). */
  pollLogLevel: LogLevel
}

const pollSchema = {
  tags: ['poll'],
  description: 'Long poll: the events after `cursor` visible to the caller, held until one arrives or `timeout` seconds pass.',
  querystring: Type.Object({
    cursor: Type.Optional(Type.String({ maxLength: 64, description: 'Opaque; from the previous answer. Without it: the current head.' })),
    // Out-of-range timeouts are capped rather than refused (the contract says so).
    timeout: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    // The client's word that nobody touched any of its tabs for a while; shown in member lists.
    away: Type.Optional(Type.Union([Type.Literal('0'), Type.Literal('1')], { description: '1: no input in any tab for a while (presence "away")' }))
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

  // Polls Fastify need not see (fast-lane.ts); not while poll requests are logged, which it does not do.
  if (!['debug', 'trace'].includes(opts.pollLogLevel)) {
    const laneOptions = { ...opts, path: `${app.prefix}/poll` }
    setFastLane(root.server, pollFastLane(laneOptions))
    setRawLane(root.server, pollRawLane(laneOptions))
  }

  app.get('/poll', {
    config: { authFromCache: true, compileEarly: true },
    // A busy server answers thousands of polls a second: logging each one at
    // info level would cost more than answering it. Failures are still logged.
    logLevel: opts.pollLogLevel,
    schema: pollSchema
  }, (request, reply) => {
    const user = requireUser(request)
    const { cursor: rawCursor, timeout, limit, away } = request.query
    if (rawCursor !== undefined && !cursorPattern.test(rawCursor)) {
      throw new AppError('invalid', 'That cursor is not one this server gave out.', { fields: { cursor: 'is malformed' } })
    }
    const query = { cursor: rawCursor === undefined ? null : Number(rawCursor), timeout, limit, away: away === '1' }
    startPoll(opts, user.id, request.ip, query, new PollReply(reply))
  })
}
