import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { requireUser } from '../auth/plugin.js'
import { ErrorSchema, NoContent, RoomName, RoomParams, RoomRef, RoomSchema, RoomTopic, UserSchema, Username } from '../http/schemas.js'
import { roomJson } from './repository.js'
import type { RoomService } from './service.js'

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 429: ErrorSchema, 503: ErrorSchema }
const RoomReply = Type.Object({ room: RoomSchema })
const Visibility = Type.Union([Type.Literal('public'), Type.Literal('private')])
const UsernameBody = Type.Object({ username: Username })
const MemberParams = Type.Object({ room: RoomRef, username: Username })

/** A channel's moderation routes; the role checks live in RoomAccess.withRole. */
export default async function moderationRoutes (root: FastifyInstance, opts: { rooms: RoomService }): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()
  const { rooms } = opts
  app.patch('/rooms/:room', {
    schema: {
      tags: ['moderation'],
      params: RoomParams,
      body: Type.Object({ name: Type.Optional(RoomName), topic: Type.Optional(RoomTopic), visibility: Type.Optional(Visibility) }, { additionalProperties: false }),
      response: { 200: RoomReply, ...errors }
    }
  }, async (request) => ({ room: roomJson(await rooms.moderation.update(requireUser(request), request.params.room, request.body)) }))

  app.delete('/rooms/:room', {
    schema: { tags: ['moderation'], params: RoomParams, response: { 204: NoContent, ...errors } }
  }, async (request, reply) => {
    await rooms.moderation.archive(requireUser(request), request.params.room)
    return await reply.code(204).send(null)
  })

  app.post('/rooms/:room/roles', {
    schema: {
      tags: ['moderation'],
      params: RoomParams,
      body: Type.Object({ username: Username, role: Type.Union([Type.Literal('moderator'), Type.Literal('member')]) }),
      response: { 204: NoContent, ...errors }
    }
  }, async (request, reply) => {
    await rooms.moderation.setRole(requireUser(request), request.params.room, request.body.username, request.body.role)
    return await reply.code(204).send(null)
  })

  app.post('/rooms/:room/kick', {
    schema: { tags: ['moderation'], params: RoomParams, body: UsernameBody, response: { 204: NoContent, ...errors } }
  }, async (request, reply) => {
    await rooms.moderation.kick(requireUser(request), request.params.room, request.body.username)
    return await reply.code(204).send(null)
  })

  app.post('/rooms/:room/bans', {
    schema: { tags: ['moderation'], params: RoomParams, body: UsernameBody, response: { 204: NoContent, ...errors } }
  }, async (request, reply) => {
    await rooms.moderation.ban(requireUser(request), request.params.room, request.body.username)
    return await reply.code(204).send(null)
  })

  app.get('/rooms/:room/bans', {
    schema: {
      tags: ['moderation'],
      params: RoomParams,
      response: { 200: Type.Object({ bans: Type.Array(Type.Object({ user: UserSchema, by: UserSchema, createdAt: Type.String() })) }), ...errors }
    }
  }, async (request) => ({ bans: await rooms.moderation.bans(requireUser(request), request.params.room) }))

  app.delete('/rooms/:room/bans/:username', {
    schema: { tags: ['moderation'], params: MemberParams, response: { 204: NoContent, ...errors } }
  }, async (request, reply) => {
    await rooms.moderation.unban(requireUser(request), request.params.room, request.params.username)
    return await reply.code(204).send(null)
  })
}
