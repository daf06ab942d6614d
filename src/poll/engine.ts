import type { EphemeralEvent, EventFeed, FeedEvent } from '../events/feed.js'
import type { MembershipSpans } from '../events/visibility.js'
import { AppError } from '../http/errors.js'
import type { MembershipCache } from './membership-cache.js'
import { SharedAnswers } from './answers.js'
import { VisibleEvents } from './visible-events.js'
import { TimeoutWheel } from './timeout-wheel.js'
import { Waiter, WaiterRegistry, type PollAnswer, type PollRequest, type PollSink } from './waiters.js'

export { ClientDeparture } from './waiters.js'

export interface PollEngineOptions {
  maxHeldPolls: number
  maxPollsPerUser: number
  /** Held polls per client address (an IPv6 /64 is one); 0: no cap. */
  maxPollsPerAddress: number
  /** About how many bytes of event JSON one answer may hold (at least one event always goes). */
  maxAnswerBytes: number
}

/**
 * Answers polls: at once from the in-memory window (or the database for a
 * client far behind) when something visible follows the cursor; otherwise the
 * poll waits in the registry until the feed brings something it may see.
 */
/** How long a poll waits for the feed to read events this process committed (it is woken at once; this bounds a stuck read). */
const READ_OWN_WRITES_WAIT_MS = 2000

export class PollEngine {
  readonly registry = new WaiterRegistry()
  /** Set by releaseAll: the process is shutting down. Read-only outside. */
  closing = false
  private readonly timeouts = new TimeoutWheel<Waiter>(250)
  /** What each user may see after a cursor, from the window or the database. */
  private readonly events: VisibleEvents
  /** Answers given since the last batch, shared by polls that get the same one. */
  private shared = new SharedAnswers()
  private readonly release = (w: Waiter): void => {
    this.timeouts.remove(w)
    this.registry.remove(w)
  }

  constructor (
    private readonly feed: EventFeed,
    private readonly membership: MembershipCache,
    private readonly options: PollEngineOptions
  ) {
    this.events = new VisibleEvents(feed, membership, options.maxAnswerBytes)
    feed.onBatch(batch => {
      membership.apply(batch)
      this.dispatch(batch)
    })
    feed.onEphemeral(event => { this.dispatchEphemeral(event) })
  }

  get held (): number { return this.registry.size }

  /** `start` as a promise (for callers that await the answer). */
  async poll (req: PollRequest): Promise<PollAnswer> {
    return await new Promise<PollAnswer>((resolve, reject) => { this.start(req, { deliver: resolve, fail: reject }) })
  }

  /**
   * Answers a poll into `sink`, exactly once: at once when something visible
   * follows the cursor (or it may not wait), else when it is released. A poll
   * whose cursor, memberships and events are all in memory (most of them) is
   * answered or parked without a promise.
   */
  start (req: PollRequest, sink: PollSink): void {
    if (this.closing) {
      sink.fail(new AppError('unavailable', 'This server is shutting down; poll again.', { retryAfter: 1 }))
      return
    }
    const cursor = req.cursor
    // Behind what this process itself committed: the slow path waits for the reader first.
    const caughtUp = this.feed.head >= this.feed.localCommitted
    const spans = caughtUp && cursor !== null && cursor <= this.feed.head ? this.membership.activeSpans(req.userId) : undefined
    const answer = spans === undefined ? null : this.events.scan(req.userId, spans, cursor as number, req.limit)
    if (spans !== undefined && answer !== null) this.respond(req, spans, answer, sink)
    else this.startFromDatabase(req, sink).catch(err => { sink.fail(err) })
  }

  private async startFromDatabase (req: PollRequest, sink: PollSink): Promise<void> {
    if (req.cursor === null) {
      sink.deliver({ events: [], cursor: await this.events.startingCursor(), hasMore: false })
      return
    }
    const cursor = req.cursor
    // A send answered by this process is in the answer of a poll that follows it (read-your-writes).
    if (this.feed.head < this.feed.localCommitted) await this.feed.waitForHead(this.feed.localCommitted, READ_OWN_WRITES_WAIT_MS)
    if (cursor > this.feed.head) await this.events.catchUpTo(cursor)
    const spans = await this.membership.spansOf(req.userId)
    this.respond(req, spans, await this.events.answer(req.userId, spans, cursor, req.limit), sink)
  }

  /** Delivers a poll's first answer if it has events (or may not wait), else parks it. */
  private respond (req: PollRequest, spans: MembershipSpans, answer: PollAnswer, sink: PollSink): void {
    if (answer.events.length > 0) sink.deliver(this.shared.share(answer))
    else if (req.timeoutMs === 0 || req.departure.left) sink.deliver(answer)
    else if (this.registry.size >= this.options.maxHeldPolls) {
      sink.fail(new AppError('unavailable', 'Too many polls are held on this server; try again shortly.', { retryAfter: 5 }))
    } else {
      const full = this.registry.fullCap(req, this.options.maxPollsPerUser, this.options.maxPollsPerAddress)
      if (full !== null) sink.fail(new AppError('rate_limited', `Too many polls are held ${full} at once.`, { retryAfter: 5 }))
      else this.park(req, spans, sink)
    }
  }

  /** Answers every held poll now (with what it has), so clients re-poll elsewhere during a shutdown. */
  releaseAll (): void {
    this.closing = true
    for (const w of this.registry.all()) w.expire()
  }

  private park (req: PollRequest, spans: MembershipSpans, sink: PollSink): void {
    const cursor = req.cursor as number
    // The poll may have waited on the database while the shutdown released
    // every held poll: parking now would hold it until the connections are cut.
    if (this.closing) {
      sink.deliver({ events: [], cursor, hasMore: false })
      return
    }
    const waiter = new Waiter(req.userId, req.address, cursor, req.limit, sink, this.release)
    this.timeouts.add(waiter, req.timeoutMs)
    req.departure.onLeave(waiter)
    this.registry.add(waiter)
    // The feed may have moved between the first look and now.
    this.recheck(waiter, spans)
    if (!waiter.settled) this.feed.nudge()
  }

  /**
   * Answers a held poll if something visible follows its cursor (from the
   * database if the window moved past it). Answers go through `shared`, so
   * polls that see the same thing share one body.
   */
  private recheck (w: Waiter, spans: MembershipSpans): void {
    const answer = this.events.scan(w.userId, spans, w.cursor, w.limit)
    if (answer === null) {
      // Out of the registry while the database answers, so no batch answers it twice.
      this.registry.remove(w)
      this.events.answer(w.userId, spans, w.cursor, w.limit).then(
        a => { w.settle(this.shared.share(a)) },
        () => { w.expire() }
      )
    } else if (answer.events.length > 0) {
      w.settle(this.shared.share(answer))
    }
  }

  private dispatch (batch: FeedEvent[]): void {
    // Answers before this batch are rarely asked for again: start a new set.
    this.shared = new SharedAnswers()
    if (this.registry.size === 0) return
    const users = new Set<number>()
    const rooms = new Set<number>()
    for (const e of batch) {
      if (e.json === null) {
        // Sessions or tokens changed: answer that user's polls so they re-authenticate.
        if (e.type === 'auth' && e.targetUserId !== null) this.releaseUser(e.targetUserId)
        continue
      }
      if (e.targetUserId !== null) users.add(e.targetUserId)
      else if (e.roomId !== null) rooms.add(e.roomId)
      // A leaver is no longer indexed under the room, yet sees their leave.
      if (e.change !== null) users.add(e.change.userId)
    }
    for (const roomId of rooms) {
      const members = this.membership.membersOf(roomId)
      if (members === undefined) continue
      for (const userId of members) if (this.registry.hasUser(userId)) users.add(userId)
    }
    for (const userId of users) {
      const waiters = this.registry.of(userId)
      if (waiters === undefined) continue
      const spans = this.membership.cachedSpans(userId)
      if (spans === undefined) continue
      for (const w of [...waiters]) this.recheck(w, spans)
    }
  }

  private dispatchEphemeral (event: EphemeralEvent): void {
    const members = this.membership.membersOf(event.roomId)
    if (members === undefined) return
    const shared = new SharedAnswers()
    for (const userId of members) {
      if (userId === event.userId) continue
      const waiters = this.registry.of(userId)
      if (waiters === undefined) continue
      // Ephemeral events never move the cursor.
      for (const w of [...waiters]) w.settle(shared.share({ events: [event.json], cursor: w.cursor, hasMore: false }))
    }
  }

  private releaseUser (userId: number): void {
    const waiters = this.registry.of(userId)
    if (waiters === undefined) return
    for (const w of [...waiters]) w.expire()
  }
}
