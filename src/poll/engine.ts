import type { EphemeralEvent, EventFeed, FeedEvent } from '../events/feed.js'
import type { MembershipSpans } from '../events/visibility.js'
import { AppError } from '../http/errors.js'
import type { MembershipCache } from './membership-cache.js'
import { collectVisible, SharedAnswers, WindowSlice } from './answers.js'
import { TimeoutWheel } from './timeout-wheel.js'
import { Waiter, WaiterRegistry, type PollAnswer, type PollRequest } from './waiters.js'

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
export class PollEngine {
  readonly registry = new WaiterRegistry()
  /** Set by releaseAll: the process is shutting down. Read-only outside. */
  closing = false
  private readonly timeouts = new TimeoutWheel<Waiter>(250)
  private readonly window: WindowSlice
  private readonly release = (w: Waiter): void => {
    this.timeouts.remove(w)
    this.registry.remove(w)
  }

  constructor (
    private readonly feed: EventFeed,
    private readonly membership: MembershipCache,
    private readonly options: PollEngineOptions
  ) {
    this.window = new WindowSlice(id => feed.get(id))
    feed.onBatch(batch => {
      membership.apply(batch)
      this.dispatch(batch)
    })
    feed.onEphemeral(event => { this.dispatchEphemeral(event) })
  }

  get held (): number { return this.registry.size }

  async poll (req: PollRequest): Promise<PollAnswer> {
    if (this.closing) throw new AppError('unavailable', 'This server is shutting down; poll again.', { retryAfter: 1 })
    if (req.cursor === null) return { events: [], cursor: await this.startingCursor(), hasMore: false }
    const cursor = req.cursor
    if (cursor > this.feed.head) await this.catchUpTo(cursor)

    // From memory without a promise when it can be: most polls come here.
    const spans = this.membership.activeSpans(req.userId) ?? await this.membership.spansOf(req.userId)
    const answer = this.scan(req.userId, spans, cursor, req.limit) ?? await this.answer(req.userId, spans, cursor, req.limit)
    if (answer.events.length > 0 || req.timeoutMs === 0 || req.departure.left) return answer

    if (this.registry.size >= this.options.maxHeldPolls) {
      throw new AppError('unavailable', 'Too many polls are held on this server; try again shortly.', { retryAfter: 5 })
    }
    const full = this.registry.fullCap(req, this.options.maxPollsPerUser, this.options.maxPollsPerAddress)
    if (full !== null) throw new AppError('rate_limited', `Too many polls are held ${full} at once.`, { retryAfter: 5 })
    return await this.park(req, spans)
  }

  /** Answers every held poll now (with what it has), so clients re-poll elsewhere during a shutdown. */
  releaseAll (): void {
    this.closing = true
    for (const w of this.registry.all()) w.expire()
  }

  /**
   * The head committed to the database, not this process's reader's: another
   * process may have written events this one has not read yet, which a client
   * that loaded history from there must not receive again.
   */
  private async startingCursor (): Promise<number> {
    // No fallback to the local head: a stale start would repeat events, and a
    // 503 just makes the client ask again.
    return Math.max(this.feed.head, await this.feed.readCommittedHead())
  }

  private async catchUpTo (cursor: number): Promise<void> {
    // Another node may simply be ahead of this one's reader: only a cursor past
    // the database's own head is one this server cannot honour.
    const committed = await this.feed.readCommittedHead()
    if (cursor > committed) {
      throw new AppError('cursor_reset', 'That cursor is ahead of the server; reload and continue from the cursor given.', { cursor: String(committed) })
    }
    if (!await this.feed.waitForHead(cursor, 5000)) {
      throw new AppError('unavailable', 'The server is catching up; try again shortly.', { retryAfter: 1 })
    }
  }

  /**
   * What a user may see after `cursor`: from the window when it still holds
   * everything after the cursor, else from the database. The window may move
   * on while the database answers; then it is simply asked again.
   */
  private async answer (userId: number, spans: MembershipSpans, cursor: number, limit: number): Promise<PollAnswer> {
    for (;;) {
      const fromWindow = this.scan(userId, spans, cursor, limit)
      if (fromWindow !== null) return fromWindow
      const fromDatabase = await this.readBehindWindow(userId, spans, cursor, limit)
      if (fromDatabase !== null) return fromDatabase
    }
  }

  /**
   * For a cursor older than the window: one indexed read along the user's
   * membership spans. Null when nothing was visible (remembered as quiet, so
   * the next look starts where this one ended).
   */
  private async readBehindWindow (userId: number, spans: MembershipSpans, cursor: number, limit: number): Promise<PollAnswer | null> {
    const from = this.scanStart(userId, cursor)
    const upTo = this.feed.head
    const candidates = await this.feed.readMemberRanges(from, upTo, userId, spans, limit)
    // Read after the events: whatever retention deleted by then is below this.
    const oldest = await this.feed.readOldestKept()
    if (cursor + 1 < oldest) {
      throw new AppError('cursor_reset', 'Events after that cursor are no longer kept; reload and continue from the cursor given.', { cursor: String(await this.startingCursor()) })
    }
    const cut = candidates.length > limit
    const answer = collectVisible(userId, spans, cursor, limit, this.options.maxAnswerBytes, candidates.slice(0, limit))
    if (answer.hasMore) return answer
    const lookedTo = cut ? (candidates[limit - 1] as FeedEvent).id : upTo
    if (answer.events.length === 0) {
      this.membership.setQuiet(userId, cursor, lookedTo)
      return null
    }
    return { events: answer.events, cursor: lookedTo, hasMore: cut }
  }

  private scanStart (userId: number, cursor: number): number {
    const quiet = this.membership.quiet(userId)
    return quiet !== null && cursor >= quiet.after && cursor <= quiet.to ? quiet.to : cursor
  }

  /**
   * What a user may see after `cursor`, from the window; null when the window
   * no longer holds all of it. Synchronous, so nothing can slip past a parking poll.
   */
  private scan (userId: number, spans: MembershipSpans, cursor: number, limit: number): PollAnswer | null {
    const head = this.feed.head
    const from = this.scanStart(userId, cursor)
    if (from < head && from + 1 < this.feed.oldestInWindow) return null
    const answer = collectVisible(userId, spans, cursor, limit, this.options.maxAnswerBytes, this.window.read(from, head))
    if (answer.hasMore) return answer
    if (answer.events.length === 0) {
      this.membership.setQuiet(userId, cursor, head)
      return answer
    }
    return { events: answer.events, cursor: head, hasMore: false }
  }

  private park (req: PollRequest, spans: MembershipSpans): Promise<PollAnswer> {
    const cursor = req.cursor as number
    // The poll may have waited on the database while the shutdown released
    // every held poll: parking now would hold it until the connections are cut.
    if (this.closing) return Promise.resolve({ events: [], cursor, hasMore: false })
    const waiter = new Waiter(req.userId, req.address, cursor, req.limit, this.release)
    this.timeouts.add(waiter, req.timeoutMs)
    req.departure.onLeave(waiter)
    this.registry.add(waiter)
    // The feed may have moved between the first look and now.
    this.recheck(waiter, spans)
    if (!waiter.settled) this.feed.nudge()
    return waiter.answer
  }

  /**
   * Answers a held poll if something visible follows its cursor (from the
   * database if the window moved past it). Answers of one batch go through
   * `shared`, so polls that see the same thing share one body.
   */
  private recheck (w: Waiter, spans: MembershipSpans, shared?: SharedAnswers): void {
    const answer = this.scan(w.userId, spans, w.cursor, w.limit)
    if (answer === null) {
      // Out of the registry while the database answers, so no batch answers it twice.
      this.registry.remove(w)
      this.answer(w.userId, spans, w.cursor, w.limit).then(
        a => { w.settle(a) },
        () => { w.expire() }
      )
    } else if (answer.events.length > 0) {
      w.settle(shared === undefined ? answer : shared.share(answer))
    }
  }

  private dispatch (batch: FeedEvent[]): void {
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
    const shared = new SharedAnswers()
    for (const userId of users) {
      const waiters = this.registry.of(userId)
      if (waiters === undefined) continue
      const spans = this.membership.cachedSpans(userId)
      if (spans === undefined) continue
      for (const w of [...waiters]) this.recheck(w, spans, shared)
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
