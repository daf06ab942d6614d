import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AppError } from '../http/errors.js'
import { DisplayName, ErrorSchema, Id, NoContent, Password, TokenName, UserSchema, Username } from '../http/schemas.js'
import type { RateLimits } from '../http/rate-limits.js'
import { clearSessionCookie, requireUser, setSessionCookie, type AuthPluginOptions } from './plugin.js'
import type { AuthService } from './service.js'
import { publicUser } from './users.js'

export interface AuthRoutesOptions {
  auth: AuthService
  cookies: AuthPluginOptions
  limits: RateLimits
}

const UserReply = Type.Object({ user: UserSchema })
const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 429: ErrorSchema, 503: ErrorSchema }

export default async function authRoutes (root: FastifyInstance, opts: AuthRoutesOptions): Promise<void> {
  registerSignInRoutes(root, opts)
  registerMeRoute(root)
  registerAccountRoutes(root, opts)
  registerTokenRoutes(root, opts)
}

/** Registering, signing in and out. */
function registerSignInRoutes (root: FastifyInstance, opts: AuthRoutesOptions): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()
  const { auth, cookies, limits } = opts

  // Every route that hashes a password takes a hashing slot of the caller's
  // address first, so no one address can fill the shared hashing queue.
  app.post('/register', {
    config: { public: true },
    onRequest: limits.register,
    preHandler: limits.hashing,
    schema: {
      tags: ['accounts'],
      body: Type.Object({ username: Username, password: Password, displayName: Type.Optional(DisplayName), invite: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) }),
      response: { 201: UserReply, 409: ErrorSchema, ...errors }
    }
  }, async (request, reply) => {
    const { user, cookie } = await auth.register(request.body)
    setSessionCookie(request, reply, cookies, cookie)
    return await reply.code(201).send({ user: publicUser(user) })
  })

  app.post('/login', {
    config: { public: true },
    // Every limit is checked before any hashing: refused guesses cost no CPU.
    onRequest: limits.loginByAddress,
    preHandler: [limits.loginByUsername, limits.loginFailures.check, limits.hashing],
    schema: {
      tags: ['accounts'],
      body: Type.Object({ username: Type.String({ maxLength: 1024 }), password: Type.String({ maxLength: 1024 }) }),
      response: { 200: UserReply, ...errors }
    }
  }, async (request, reply) => {
    let signedIn
    try {
      signedIn = await auth.login(request.body.username, request.body.password)
    } catch (err) {
      if (err instanceof AppError && err.code === 'bad_credentials') await limits.loginFailures.failed(request)
      throw err
    }
    await limits.loginFailures.succeeded(request)
    const { user, cookie } = signedIn
    setSessionCookie(request, reply, cookies, cookie)
    return { user: publicUser(user) }
  })

  app.post('/logout', {
    config: { public: true },
    schema: { tags: ['accounts'], response: { 204: NoContent, ...errors } }
  }, async (request, reply) => {
    if (request.user !== null) await auth.logout(request.user)
    clearSessionCookie(request, reply, cookies)
    return await reply.code(204).send(null)
  })
}

/** Who the caller is. `admin` lets the client show the administration page without probing a route that refuses others. */
function registerMeRoute (root: FastifyInstance): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()
  app.get('/me', {
    schema: { tags: ['accounts'], response: { 200: Type.Object({ user: UserSchema, admin: Type.Boolean() }), ...errors } }
  }, async (request) => {
    const user = requireUser(request)
    return { user: publicUser(user), admin: user.isAdmin }
  })
}

/** Changing the password and ending every session. */
function registerAccountRoutes (root: FastifyInstance, opts: AuthRoutesOptions): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()
  const { auth, cookies, limits } = opts

  // Account routes take a cookie session only (config.sessionOnly): a token can
  // neither change the password, end sessions, nor see or mint other tokens.
  app.post('/password', {
    config: { sessionOnly: true },
    preHandler: [limits.loginByUser, limits.hashing],
    schema: {
      tags: ['accounts'],
      body: Type.Object({ currentPassword: Type.String({ maxLength: 1024 }), newPassword: Password }),
      response: { 204: NoContent, ...errors }
    }
  }, async (request, reply) => {
    const cookie = await auth.changePassword(requireUser(request), request.body.currentPassword, request.body.newPassword)
    if (cookie !== null) setSessionCookie(request, reply, cookies, cookie)
    return await reply.code(204).send(null)
  })

  app.post('/sessions/revoke', {
    config: { sessionOnly: true },
    schema: { tags: ['accounts'], response: { 204: NoContent, ...errors } }
  }, async (request, reply) => {
    const user = requireUser(request)
    await auth.revokeAll(user)
    if (user.via === 'cookie') clearSessionCookie(request, reply, cookies)
    return await reply.code(204).send(null)
  })
}

/** Minting, listing and deleting API tokens. */
function registerTokenRoutes (root: FastifyInstance, opts: AuthRoutesOptions): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()
  const { auth, limits } = opts

  app.post('/tokens', {
    config: { sessionOnly: true },
    // The password is checked here, so guesses count like those on /password.
    preHandler: [limits.loginByUser, limits.tokens, limits.hashing],
    schema: {
      tags: ['tokens'],
      body: Type.Object({ name: TokenName, password: Type.String({ maxLength: 1024 }) }),
      response: { 201: Type.Object({ id: Id, name: Type.String(), token: Type.String(), createdAt: Type.String() }), ...errors }
    }
  }, async (request, reply) => {
    const created = await auth.createToken(requireUser(request), request.body.name.trim(), request.body.password)
    return await reply.code(201).send({ id: created.id, name: created.name, token: created.token, createdAt: created.createdAt })
  })

  app.get('/tokens', {
    config: { sessionOnly: true },
    schema: {
      tags: ['tokens'],
      response: {
        200: Type.Object({
          tokens: Type.Array(Type.Object({ id: Id, name: Type.String(), createdAt: Type.String(), lastUsedAt: Type.Union([Type.String(), Type.Null()]) }))
        }),
        ...errors
      }
    }
  }, async (request) => ({ tokens: await auth.listTokens(requireUser(request)) }))

  app.delete('/tokens/:id', {
    config: { sessionOnly: true },
    schema: { tags: ['tokens'], params: Type.Object({ id: Id }), response: { 204: NoContent, 404: ErrorSchema, ...errors } }
  }, async (request, reply) => {
    if (!await auth.deleteToken(requireUser(request), Number(request.params.id))) throw new AppError('not_found', 'No such token.')
    return await reply.code(204).send(null)
  })
}
