import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { requireUser } from '../auth/plugin.js'
import { ErrorSchema, Id, NoContent, RoomParams, RoomRef, TokenName } from '../http/schemas.js'
import { subscribableTypes } from './events.js'
import type { WebhookService } from './service.js'

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 429: ErrorSchema, 503: ErrorSchema }
const HookParams = Type.Object({ room: RoomRef, id: Id })
const EventType = Type.Union(subscribableTypes.map(t => Type.Literal(t)))
const Summary = Type.Object({
  id: Id,
  url: Type.String(),
  events: Type.Array(Type.String()),
  createdAt: Type.String(),
  lastDeliveredEventId: Id,
  failing: Type.Boolean(),
  lastError: Type.Union([Type.String(), Type.Null()])
})

export default async function outgoingRoutes (root: FastifyInstance, opts: { webhooks: WebhookService }): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()
  const { webhooks } = opts

  app.post('/rooms/:room/outgoing-webhooks', {
    schema: {
      tags: ['webhooks'],
      description: "POSTs the room's events to `url`, signed with the secret shown once.",
      params: RoomParams,
      body: Type.Object({
        url: Type.String({ minLength: 1, maxLength: 2048, pattern: '^[Hh][Tt][Tt][Pp][Ss]?://' }),
        events: Type.Optional(Type.Array(EventType, { minItems: 1, maxItems: subscribableTypes.length })),
        name: Type.Optional(TokenName)
      }),
      response: { 201: Type.Object({ ...Summary.properties, secret: Type.String() }), ...errors }
    }
  }, async (request, reply) => {
    const made = await webhooks.createOutgoing(requireUser(request), request.params.room, {
      url: request.body.url, events: request.body.events ?? ['message'], name: request.body.name
    })
    return await reply.code(201).send(made)
  })

  app.get('/rooms/:room/outgoing-webhooks', {
    schema: { tags: ['webhooks'], params: RoomParams, response: { 200: Type.Object({ webhooks: Type.Array(Summary) }), ...errors } }
  }, async (request) => ({ webhooks: await webhooks.listOutgoing(requireUser(request), request.params.room) }))

  app.delete('/rooms/:room/outgoing-webhooks/:id', {
    schema: { tags: ['webhooks'], params: HookParams, response: { 204: NoContent, ...errors } }
  }, async (request, reply) => {
    await webhooks.deleteOutgoing(requireUser(request), request.params.room, Number(request.params.id))
    return await reply.code(204).send(null)
  })

  app.post('/rooms/:room/outgoing-webhooks/:id/resume', {
    schema: {
      tags: ['webhooks'],
      description: 'Takes a `failing` webhook out of its pause: deliveries go on from its cursor.',
      params: HookParams,
      response: { 204: NoContent, ...errors }
    }
  }, async (request, reply) => {
    await webhooks.resumeOutgoing(requireUser(request), request.params.room, Number(request.params.id))
    return await reply.code(204).send(null)
  })
}
