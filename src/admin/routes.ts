import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { requireUser } from '../auth/plugin.js'
import type { AuthUser } from '../auth/service.js'
import { AppError } from '../http/errors.js'
import { ErrorSchema, Id, NoContent, UserSchema, Username } from '../http/schemas.js'
import type { AdminService } from './service.js'

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 429: ErrorSchema, 503: ErrorSchema }
const UsernameParams = Type.Object({ username: Username })
const InviteCode = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' })

function requireAdmin (request: FastifyRequest): AuthUser {
  const user = requireUser(request)
  if (!user.isAdmin) throw new AppError('forbidden', 'Only administrators may do that.')
  return user
}

/** The site's administration: invitations and accounts, for administrators only. */
export default async function adminRoutes (root: FastifyInstance, opts: { admin: AdminService, basePath: string }): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()
  const { admin, basePath } = opts
  // Before validation, so a non-administrator learns nothing about the routes' input.
  app.addHook('preValidation', async (request) => { requireAdmin(request) })
  await app.register(userRoutes)

  app.post('/admin/invites', {
    // Both fields have defaults, so a bare POST (curl with no body) makes an invitation too.
    preValidation: async (request) => { request.body ??= {} },
    schema: {
      tags: ['administration'],
      body: Type.Object({
        uses: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 1 })),
        expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 365, default: 7 }))
      }, { additionalProperties: false }),
      response: { 201: Type.Object({ code: Type.String(), url: Type.String(), uses: Type.Integer(), expiresAt: Type.String() }), ...errors }
    }
  }, async (request, reply) => {
    const invite = await admin.createInvite(requireAdmin(request), request.body.uses ?? 1, request.body.expiresInDays ?? 7)
    // request.host and protocol follow X-Forwarded-* only from a trusted proxy (TRUST_PROXY).
    const url = `${request.protocol}://${request.host}${basePath}/?invite=${invite.code}`
    return await reply.code(201).send({ ...invite, url })
  })

  app.get('/admin/invites', {
    schema: {
      tags: ['administration'],
      response: { 200: Type.Object({ invites: Type.Array(Type.Object({ code: Type.String(), usesLeft: Type.Integer(), expiresAt: Type.String(), createdBy: UserSchema })) }), ...errors }
    }
  }, async () => ({ invites: await admin.listInvites() }))

  app.delete('/admin/invites/:code', {
    schema: { tags: ['administration'], params: Type.Object({ code: InviteCode }), response: { 204: NoContent, ...errors } }
  }, async (request, reply) => {
    await admin.deleteInvite(request.params.code)
    return await reply.code(204).send(null)
  })
}

/** Accounts: list, disable, enable. */
async function userRoutes (root: FastifyInstance): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()
  const admin = root.admin
  app.get('/admin/users', {
    schema: {
      tags: ['administration'],
      querystring: Type.Object({
        q: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
        after: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 100 }))
      }),
      response: {
        200: Type.Object({
          users: Type.Array(Type.Object({
            id: Id,
            username: Type.String(),
            displayName: Type.String(),
            admin: Type.Boolean(),
            disabled: Type.Boolean(),
            createdAt: Type.String(),
            lastSeenAt: Type.Union([Type.String(), Type.Null()])
          })),
          next: Type.Union([Type.String(), Type.Null()])
        }),
        ...errors
      }
    }
  }, async (request) => {
    const { q, after, limit } = request.query
    return await admin.listUsers({ q: q ?? null, after: after ?? null, limit: limit ?? 100 })
  })

  app.post('/admin/users/:username/disable', {
    schema: { tags: ['administration'], params: UsernameParams, response: { 204: NoContent, ...errors } }
  }, async (request, reply) => {
    await admin.disable(requireAdmin(request), request.params.username)
    return await reply.code(204).send(null)
  })

  app.post('/admin/users/:username/enable', {
    schema: { tags: ['administration'], params: UsernameParams, response: { 204: NoContent, ...errors } }
  }, async (request, reply) => {
    await admin.enable(request.params.username)
    return await reply.code(204).send(null)
  })
}
