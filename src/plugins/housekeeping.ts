import fp from 'fastify-plugin'
import { pruneRevokedSessions } from '../auth/users.js'

/** Once a minute: forget idle users' memberships and credentials, prune old typing notices, revoked sessions and spent invitations, record token use. */
export default fp(async function housekeeping (app) {
  const { database, membership, engine, messages, auth, admin } = app
  const timer = setInterval(() => {
    membership.evictIdle(userId => engine.registry.hasUser(userId))
    messages.pruneEphemeral().catch(() => {})
    pruneRevokedSessions(database.db).catch(() => {})
    auth.housekeeping().catch(() => {})
    admin.housekeeping().catch(() => {})
  }, 60000)
  timer.unref()
  app.addHook('onClose', async () => { clearInterval(timer) })
}, { name: 'housekeeping', dependencies: ['database', 'event-stream', 'services'] })
