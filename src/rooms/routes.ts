import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { requireUser } from '../auth/plugin.js'
import { ErrorSchema, Id, NoContent, RoomName, RoomParams, RoomSchema, UserSchema, Username } from '../http/schemas.js'
import type { RateLimits } from '../http/rate-limits.js'
import { roomJson } from './repository.js'
import type { RoomService } from './service.js'
import moderationRoutes from './moderation-routes.js'

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 429: ErrorSchema, 503: ErrorSchema }
const RoomReply = Type.Object({ room: RoomSchema })
const Visibility = Type.Union([Type.Literal('public'), Type.Literal('private')])
const UsernameBody = Type.Object({ username: Username })

interface RoomRouteOptions { rooms: RoomService, limits: RateLimits }

export default async function roomRoutes (root: FastifyInstance, opts: RoomRouteOptions): Promise<void> {
  registerListingRoutes(root, opts)
  registerMembershipRoutes(root, opts)
  registerDirectAndReadRoutes(root, opts)
  await root.register(moderationRoutes, { rooms: opts.rooms })
  registerBlockRoutes(root, opts)
}

/** The caller's rooms, and the public channels to find one in. */
function registerListingRoutes (root: FastifyInstance, opts: RoomRouteOptions): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()
  const { rooms } = opts

  app.get('/rooms', {
    schema: {
      tags: ['rooms'],
      response: {
        200: Type.Object({
          rooms: Type.Array(Type.Object({
            id: Id,
            name: Type.Union([Type.String(), Type.Null()]),
            kind: Type.String(),
            visibility: Type.String(),
            topic: Type.Union([Type.String(), Type.Null()]),
            unread: Type.Integer(),
            mentions: Type.Integer({ description: "The caller's unread mentions here" }),
            lastEventId: Type.Union([Id, Type.Null()]),
            peer: Type.Union([UserSchema, Type.Null()], { description: 'For a direct room: the other member' })
          }))
        }),
        ...errors
      }
    }
  }, async (request) => {
    const list = await rooms.listMine(requireUser(request))
    return {
      rooms: list.map(r => ({ ...roomJson(r), unread: r.unread, mentions: r.mentions, lastEventId: r.lastEventId === null ? null : String(r.lastEventId), peer: r.peer }))
    }
  })

  app.get('/rooms/public', {
    schema: {
      tags: ['rooms'],
      description: 'Public channels by name, a page at a time: pass `next` as `after` for the next page.',
      querystring: Type.Object({
        q: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Names containing this' })),
        after: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Names after this one' })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 100 }))
      }),
      response: {
        200: Type.Object({
          rooms: Type.Array(Type.Object({ id: Id, name: Type.String(), visibility: Type.String(), topic: Type.Union([Type.String(), Type.Null()]), memberCount: Type.Integer(), joined: Type.Boolean() })),
          next: Type.Union([Type.String(), Type.Null()])
        }),
        ...errors
      }
    }
  }, async (request) => {
    const { q, after, limit } = request.query
    const page = await rooms.listPublic(requireUser(request), { q: q ?? null, after: after ?? null, limit: limit ?? 100 })
    return {
      rooms: page.rooms.map(r => ({ id: String(r.id), name: r.name ?? '', visibility: r.visibility, topic: r.topic, memberCount: r.memberCount, joined: r.joined })),
      next: page.next
    }
  })
}

/** Creating, joining and leaving a room; inviting and listing its members. */
function registerMembershipRoutes (root: FastifyInstance, opts: RoomRouteOptions): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()
  const { rooms, limits } = opts

  app.post('/rooms', {
    preHandler: limits.lookup,
    schema: {
      tags: ['rooms'],
      body: Type.Object({ name: RoomName, visibility: Type.Optional(Visibility) }),
      response: { 201: RoomReply, ...errors }
    }
  }, async (request, reply) => {
    const room = await rooms.create(requireUser(request), request.body.name, request.body.visibility ?? 'public')
    return await reply.code(201).send({ room: roomJson(room) })
  })

  app.post('/rooms/:room/join', {
    schema: { tags: ['rooms'], params: RoomParams, response: { 200: RoomReply, ...errors } }
  }, async (request) => ({ room: roomJson(await rooms.join(requireUser(request), request.params.room)) }))

  app.post('/rooms/:room/leave', {
    schema: { tags: ['rooms'], params: RoomParams, response: { 204: NoContent, ...errors } }
  }, async (request, reply) => {
    await rooms.leave(requireUser(request), request.params.room)
    return await reply.code(204).send(null)
  })

  app.post('/rooms/:room/members', {
    schema: {
      tags: ['rooms'],
      params: RoomParams,
      body: UsernameBody,
      response: { 200: Type.Object({ user: UserSchema }), 201: Type.Object({ user: UserSchema }), ...errors }
    }
  }, async (request, reply) => {
    const { added, member } = await rooms.invite(requireUser(request), request.params.room, request.body.username)
    return await reply.code(added ? 201 : 200).send({ user: member })
  })

  app.get('/rooms/:room/members', {
    preHandler: limits.lookup,
    schema: {
      tags: ['rooms'],
      params: RoomParams,
      response: { 200: Type.Object({ members: Type.Array(Type.Object({ id: Id, username: Type.String(), displayName: Type.String(), online: Type.Boolean(), away: Type.Boolean(), role: Type.String() })) }), ...errors }
    }
  }, async (request) => ({ members: await rooms.members(requireUser(request), request.params.room) }))
}

/** Opening a direct room with someone, and marking how far the caller has read. */
function registerDirectAndReadRoutes (root: FastifyInstance, opts: RoomRouteOptions): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()
  const { rooms, limits } = opts

  app.post('/direct', {
    preHandler: limits.lookup,
    schema: {
      tags: ['rooms'],
      body: UsernameBody,
      response: { 200: RoomReply, 201: RoomReply, ...errors }
    }
  }, async (request, reply) => {
    const { room, created } = await rooms.direct(requireUser(request), request.body.username)
    return await reply.code(created ? 201 : 200).send({ room: roomJson(room) })
  })

  app.post('/rooms/:room/read', {
    schema: { tags: ['rooms'], params: RoomParams, body: Type.Object({ eventId: Id }), response: { 204: NoContent, ...errors } }
  }, async (request, reply) => {
    await rooms.markRead(requireUser(request), request.params.room, Number(request.body.eventId))
    return await reply.code(204).send(null)
  })
}

/** Blocking, listing and unblocking users. */
function registerBlockRoutes (root: FastifyInstance, opts: RoomRouteOptions): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()
  const { rooms } = opts

  app.post('/blocks', {
    schema: { tags: ['rooms'], body: UsernameBody, response: { 204: NoContent, ...errors } }
  }, async (request, reply) => {
    await rooms.block(requireUser(request), request.body.username)
    return await reply.code(204).send(null)
  })

  app.get('/blocks', {
    schema: { tags: ['rooms'], response: { 200: Type.Object({ blocks: Type.Array(Type.Object({ user: UserSchema })) }), ...errors } }
  }, async (request) => ({ blocks: (await rooms.blocks(requireUser(request))).map(user => ({ user })) }))

  app.delete('/blocks/:username', {
    schema: { tags: ['rooms'], params: Type.Object({ username: Username }), response: { 204: NoContent, ...errors } }
  }, async (request, reply) => {
    await rooms.unblock(requireUser(request), request.params.username)
    return await reply.code(204).send(null)
  })
}
