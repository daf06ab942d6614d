import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { requireUser } from '../auth/plugin.js'
import { ClientId, ErrorSchema, EventSchema, Id, MessageText, NoContent, RoomRef } from '../http/schemas.js'
import { sendPrebuiltJson } from '../http/prebuilt-json.js'
import type { RateLimits } from '../http/rate-limits.js'
import type { MessageService } from './service.js'

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 429: ErrorSchema, 503: ErrorSchema }
const MessageParams = Type.Object({ room: RoomRef, id: Id })

interface MessageRouteOptions { messages: MessageService, limits: RateLimits }

export default async function messageRoutes (root: FastifyInstance, opts: MessageRouteOptions): Promise<void> {
  registerPostingRoutes(root, opts)
  registerChangeRoutes(root, opts)
}

/** Sending a message and reading a room's history. */
function registerPostingRoutes (root: FastifyInstance, opts: MessageRouteOptions): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()
  const { messages, limits } = opts

  app.post('/rooms/:room/messages', {
    // A token memory knows is not looked up again here: the send's transaction checks it (MessageService.send).
    config: { authFromCacheVerifiedLater: true, compileEarly: true },
    preHandler: limits.send,
    // curl users may send the text itself as text/plain.
    preValidation: async (request) => {
      if (typeof request.body === 'string') request.body = { text: request.body }
    },
    schema: {
      tags: ['messages'],
      description: 'Send a message. Accepts JSON, a form, or text/plain (the body is the text).',
      params: Type.Object({ room: RoomRef }),
      body: Type.Object({ text: MessageText, clientId: Type.Optional(ClientId) }),
      response: { 200: Type.Object({ event: EventSchema }), 201: Type.Object({ event: EventSchema }), ...errors }
    }
  }, async (request, reply) => {
    const result = await messages.send(requireUser(request), request.params.room, request.body.text, request.body.clientId ?? null)
    return await sendPrebuiltJson(reply.code(result.created ? 201 : 200), `{"event":${result.json}}`)
  })

  app.get('/rooms/:room/messages', {
    schema: {
      tags: ['messages'],
      params: Type.Object({ room: RoomRef }),
      querystring: Type.Object({
        before: Type.Optional(Id),
        after: Type.Optional(Id),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 }))
      }),
      response: { 200: Type.Object({ events: Type.Array(EventSchema), hasMore: Type.Boolean() }), ...errors }
    }
  }, async (request) => {
    const { before, after, limit } = request.query
    const bounds = { before: before === undefined ? null : Number(before), after: after === undefined ? null : Number(after) }
    return await messages.history(requireUser(request), request.params.room, bounds, limit ?? 50)
  })
}

/** Editing and deleting a message, and saying one is typing. */
function registerChangeRoutes (root: FastifyInstance, opts: MessageRouteOptions): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()
  const { messages, limits } = opts

  app.patch('/rooms/:room/messages/:id', {
    // An edit costs what a send does (an event every reader receives): one budget for both.
    preHandler: limits.send,
    schema: {
      tags: ['messages'],
      params: MessageParams,
      body: Type.Object({ text: MessageText }),
      response: { 200: Type.Object({ event: EventSchema }), ...errors }
    }
  }, async (request, reply) => {
    const event = await messages.edit(requireUser(request), request.params.room, Number(request.params.id), request.body.text)
    return await sendPrebuiltJson(reply, `{"event":${event}}`)
  })

  app.delete('/rooms/:room/messages/:id', {
    schema: { tags: ['messages'], params: MessageParams, response: { 204: NoContent, ...errors } }
  }, async (request, reply) => {
    await messages.remove(requireUser(request), request.params.room, Number(request.params.id))
    return await reply.code(204).send(null)
  })

  app.post('/rooms/:room/typing', {
    schema: { tags: ['messages'], params: Type.Object({ room: RoomRef }), response: { 204: NoContent, ...errors } }
  }, async (request, reply) => {
    await messages.typing(requireUser(request), request.params.room)
    return await reply.code(204).send(null)
  })
}
