import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { EventLog } from '../events/event-log.js'
import { EventFeed } from '../events/feed.js'
import { AppError } from '../http/errors.js'
import { PollEngine } from '../poll/engine.js'
import { loadMembershipSpans, MembershipCache } from '../poll/membership-cache.js'
import { Presence } from '../poll/presence.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The only writer of events. */
    eventLog: EventLog
    /** Reads committed events, from every node, in id order. */
    feed: EventFeed
    /** Each recently active user's memberships over the stream, kept current by the feed. */
    membership: MembershipCache
    /** Holds polls and answers them from the feed. */
    engine: PollEngine
    /** Who is online. */
    presence: Presence
  }
}

/** About 1 MiB of events per poll answer, whatever `limit` says. */
const maxAnswerBytes = 1000000

/**
 * The event stream and what hangs on it: the feed, the membership it keeps
 * current, the poll engine it wakes, and presence. They start and stop
 * together. On shutdown held polls answer at once, so clients re-poll another
 * node; whatever still arrives on an open connection is sent there too.
 */
export default fp(async function eventStream (app, opts: { config: Config }) {
  const { config } = opts
  for (const name of ['eventLog', 'feed', 'membership', 'engine', 'presence'] as const) app.decorate(name, null, [])
  const { db } = app.database
  // The feed reads often only while polls are held; it starts after the engine exists.
  const feed: EventFeed = new EventFeed({ db, log: app.log, intervalMs: config.feedIntervalMs, window: config.feedWindow, windowBytes: config.feedWindowBytes, hasWaiters: () => engine.held > 0 })
  const membership = new MembershipCache(feed, async userId => await loadMembershipSpans(db, userId))
  const engine: PollEngine = new PollEngine(feed, membership, {
    maxHeldPolls: config.maxHeldPolls,
    maxPollsPerUser: config.maxPollsPerUser,
    maxPollsPerAddress: config.maxPollsPerAddress,
    maxAnswerBytes
  })
  const presence = new Presence(db, app.log, userId => engine.registry.hasUser(userId))
  app.eventLog = new EventLog(app.database, (rows) => {
    feed.localCommitted = Math.max(feed.localCommitted, Number(rows[rows.length - 1]?.id ?? 0))
    feed.takeCommitted(rows)
  })
  app.feed = feed
  app.membership = membership
  app.engine = engine
  app.presence = presence

  await feed.start()
  presence.start()
  app.addHook('preClose', async () => { engine.releaseAll() })
  // A callback hook: no promise per request.
  app.addHook('onRequest', (_request, _reply, done) => {
    done(engine.closing ? new AppError('unavailable', 'This server is shutting down; try again.', { retryAfter: 1 }) : undefined)
  })
  app.addHook('onClose', async () => {
    presence.stop()
    await presence.flush()
    feed.close()
  })
}, { name: 'event-stream', dependencies: ['database'] })
