import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { PasswordHasher } from '../auth/passwords.js'
import { AuthService } from '../auth/service.js'
import { SessionSealer } from '../auth/session-cookie.js'
import { sessionSecrets } from '../auth/session-secret.js'
import { SendBatcher } from '../messages/send-batcher.js'
import { MessageService } from '../messages/service.js'
import { RoomAccess } from '../rooms/access.js'
import { RoomService } from '../rooms/service.js'
import { consumeInvite } from '../admin/repository.js'
import { AdminService } from '../admin/service.js'

declare module 'fastify' {
  interface FastifyInstance {
    auth: AuthService
    rooms: RoomService
    messages: MessageService
    admin: AdminService
  }
}

/** The features' services: accounts and sessions, rooms, messages, administration. They hold no resource of their own to close. */
export default fp(async function services (app, opts: { config: Config }) {
  const { config } = opts
  for (const name of ['auth', 'rooms', 'messages', 'admin'] as const) app.decorate(name, null, [])
  const { db } = app.database
  const { eventLog, feed, presence } = app
  app.auth = new AuthService({
    db,
    eventLog,
    sealer: new SessionSealer(sessionSecrets(config, msg => app.log.warn(msg)), config.sessionTtlSeconds),
    hasher: new PasswordHasher(config.passwordHashConcurrency),
    registration: config.registration,
    maxTokensPerUser: config.rateLimit.maxTokensPerUser,
    consumeInvite
  })
  const auth = app.auth
  feed.onBatch(batch => auth.onFeedBatch(batch))
  const access = new RoomAccess(db)
  app.rooms = new RoomService({ db, eventLog, access, maxRoomsPerUser: config.rateLimit.maxRoomsPerUser, isOnline: (id, seen) => presence.isOnline(id, seen) })
  app.admin = new AdminService({ db, eventLog })
  app.messages = new MessageService({ db, eventLog, access, batcher: new SendBatcher(eventLog), onEphemeral: () => feed.wake() })
}, { name: 'services', dependencies: ['database', 'event-stream'] })
