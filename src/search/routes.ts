import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { requireUser } from '../auth/plugin.js'
import { ErrorSchema, EventSchema, Id, RoomRef } from '../http/schemas.js'
import type { SearchService } from './service.js'

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 503: ErrorSchema }

export default async function searchRoutes (root: FastifyInstance, opts: { search: SearchService }): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()

  app.get('/search', {
    schema: {
      tags: ['search'],
      description: 'Messages containing every word of q (case-insensitive; text without spaces matches as a substring), newest first, from the caller\'s rooms.',
      querystring: Type.Object({
        q: Type.String({ minLength: 1, maxLength: 200 }),
        room: Type.Optional(RoomRef),
        before: Type.Optional(Id),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 }))
      }),
      response: { 200: Type.Object({ events: Type.Array(EventSchema), hasMore: Type.Boolean() }), ...errors }
    }
  }, async (request) => {
    const { q, room, before, limit } = request.query
    return await opts.search.search(requireUser(request), {
      q, room: room ?? null, before: before === undefined ? null : Number(before), limit: limit ?? 20
    })
  })
}
