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
import { AttachmentService } from '../attachments/service.js'
import { DatabaseStore, FolderStore } from '../attachments/store.js'
import { SearchService } from '../search/service.js'
import { consumeInvite } from '../admin/repository.js'
import { AdminService } from '../admin/service.js'

declare module 'fastify' {
  interface FastifyInstance {
    auth: AuthService
    rooms: RoomService
    messages: MessageService
    attachments: AttachmentService
    messageSearch: SearchService
    admin: AdminService
  }
}

/** The features' services: accounts and sessions, rooms, messages, files, search, administration. They hold no resource of their own to close. */
export default fp(async function services (app, opts: { config: Config }) {
  const { config } = opts
  for (const name of ['auth', 'rooms', 'messages', 'attachments', 'messageSearch', 'admin'] as const) app.decorate(name, null, [])
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
  app.rooms = new RoomService({
    db,
    eventLog,
    access,
    maxRoomsPerUser: config.rateLimit.maxRoomsPerUser,
    isOnline: (id, seen) => presence.isOnline(id, seen),
    isAway: (id, seen, stored) => presence.isAway(id, seen, stored)
  })
  // Files are sent as messages: one batcher, one group commit for both.
  const batcher = new SendBatcher(eventLog)
  const attachments = new AttachmentService({
    db,
    access,
    batcher,
    store: config.attachments.store === 'database' ? new DatabaseStore(db) : new FolderStore(config.attachments.dir),
    maxBytes: config.attachments.maxBytes,
    quotaBytes: config.attachments.quotaBytes,
    log: app.log
  })
  app.attachments = attachments
  app.messages = new MessageService({ db, eventLog, access, batcher, onEphemeral: () => { feed.wakeForEphemeral() }, onDeleted: async id => { await attachments.purgeMessage(id) } })
  app.admin = new AdminService({ db, eventLog })
  app.messageSearch = new SearchService({ db, dialect: app.database.dialect, access, scanLimit: config.searchScanLimit })
}, { name: 'services', dependencies: ['database', 'event-stream'] })
