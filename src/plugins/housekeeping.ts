import fp from 'fastify-plugin'
import { pruneRevokedSessions } from '../auth/users.js'
import type { Config } from '../config.js'
import { EventRetention } from '../events/retention.js'

/**
 * Once a minute: forget idle users' memberships and credentials, prune old
 * typing notices and revoked sessions, record token use, prune spent invitations. Every 10 minutes, one
 * node at a time deletes events older than EVENT_RETENTION_DAYS.
 */
export default fp(async function housekeeping (app, opts: { config: Config }) {
  const { database, membership, engine, messages, auth, attachments, admin } = app
  const timer = setInterval(() => {
    membership.evictIdle(userId => engine.registry.hasUser(userId))
    messages.pruneEphemeral().catch(() => {})
    pruneRevokedSessions(database.db).catch(() => {})
    auth.housekeeping().catch(() => {})
    attachments.housekeeping().catch(err => { app.log.warn({ err }, 'attachment housekeeping failed') })
    admin.housekeeping().catch(() => {})
  }, 60000)
  timer.unref()
  const retention = new EventRetention({ db: database.db, log: app.log, days: opts.config.eventRetentionDays })
  retention.start()
  app.addHook('onClose', async () => {
    clearInterval(timer)
    await retention.stop()
  })
}, { name: 'housekeeping', dependencies: ['database', 'event-stream', 'services'] })
