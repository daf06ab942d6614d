import type { EphemeralEvent, EventFeed, FeedEvent } from '../events/feed.js'
import { AppError } from '../http/errors.js'
import type { MembershipCache } from './membership-cache.js'
import { WaiterRegistry, type PollAnswer, type Waiter } from './waiters.js'

export interface PollEngineOptions {
  maxHeldPolls: number
  maxPollsPerUser: number
  /** Reads visible events after `after` up to `upTo` from the database, for a client behind the window. */
  readVisible: (after: number, upTo: number, userId: number, rooms: ReadonlySet<number>, limit: number) => Promise<FeedEvent[]>
}

/** Tells a held poll that its client went away; the poll then leaves the registry at once. */
export class ClientDeparture {
  left = false
  private listener: (() => void) | null = null

  leave (): void {
    if (this.left) return
    this.left = true
    const listener = this.listener
    this.listener = null
    listener?.()
  }

  /** One listener at a time; null removes it. */
  onLeave (listener: (() => void) | null): void { this.listener = listener }
}

export interface PollRequest {
  userId: number
  cursor: number | null
  limit: number
  timeoutMs: number
  departure: ClientDeparture
}

/** Whether a user may see an event, judged by the user's current rooms. */
export function isVisible (e: FeedEvent, userId: number, rooms: ReadonlySet<number>): boolean {
  if (e.json === null) return false
  if (e.targetUserId !== null) return e.targetUserId === userId
  if (e.roomId !== null && rooms.has(e.roomId)) return true
  // Whoever leaves still hears that they left (their other tabs update).
  return e.type === 'member.left' && e.userId === userId
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

  constructor (
    private readonly feed: EventFeed,
    private readonly membership: MembershipCache,
    private readonly options: PollEngineOptions
  ) {
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

    const rooms = await this.membership.roomsOf(req.userId)
    const early = await this.collectBehindWindow(req.userId, rooms, cursor, req.limit)
    if (early !== null) return early
    const answer = this.scan(req.userId, rooms, cursor, req.limit)
    if (answer.events.length > 0 || req.timeoutMs === 0 || req.departure.left) return answer

    if (this.registry.size >= this.options.maxHeldPolls) {
      throw new AppError('unavailable', 'Too many polls are held on this server; try again shortly.', { retryAfter: 5 })
    }
    if (this.registry.countFor(req.userId) >= this.options.maxPollsPerUser) {
      throw new AppError('rate_limited', 'Too many polls are held for this account at once.', { retryAfter: 5 })
    }
    return await this.park(req, rooms)
  }

  /** Answers every held poll now (with what it has), so clients re-poll elsewhere during a shutdown. */
  releaseAll (): void {
    this.closing = true
    for (const w of this.registry.all()) w.settle({ events: [], cursor: w.cursor, hasMore: false })
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

  /** For a cursor older than the window: read from the database until the window takes over. */
  private async collectBehindWindow (userId: number, rooms: ReadonlySet<number>, cursor: number, limit: number): Promise<PollAnswer | null> {
    for (;;) {
      const from = this.scanStart(userId, cursor)
      if (from + 1 >= this.feed.oldestInWindow) return null
      const upTo = this.feed.head
      const found = await this.options.readVisible(from, upTo, userId, rooms, limit)
      if (found.length > 0) {
        const hasMore = found.length > limit
        const events = found.slice(0, limit)
        const last = events[events.length - 1] as FeedEvent
        return { events: events.map(e => e.json as string), cursor: hasMore ? last.id : upTo, hasMore }
      }
      this.membership.setQuiet(userId, cursor, upTo)
    }
  }

  private scanStart (userId: number, cursor: number): number {
    const quiet = this.membership.quiet(userId)
    return quiet !== null && cursor >= quiet.after && cursor <= quiet.to ? quiet.to : cursor
  }

  /** What a user may see after `cursor`, from the window. Synchronous, so nothing can slip past a parking poll. */
  private scan (userId: number, rooms: ReadonlySet<number>, cursor: number, limit: number): PollAnswer {
    const head = this.feed.head
    const from = Math.max(this.scanStart(userId, cursor), this.feed.oldestInWindow - 1)
    const events: string[] = []
    let lastId = cursor
    for (let id = from + 1; id <= head; id++) {
      const e = this.feed.get(id)
      if (e === undefined || !isVisible(e, userId, rooms)) continue
      if (events.length === limit) return { events, cursor: lastId, hasMore: true }
      events.push(e.json as string)
      lastId = id
    }
    if (events.length === 0) {
      this.membership.setQuiet(userId, cursor, head)
      return { events, cursor, hasMore: false }
    }
    return { events, cursor: head, hasMore: false }
  }

  private park (req: PollRequest, rooms: ReadonlySet<number>): Promise<PollAnswer> {
    return new Promise<PollAnswer>(resolve => {
      let settled = false
      const cursor = req.cursor as number
      const onAbort = (): void => { waiter.settle({ events: [], cursor, hasMore: false }) }
      const timer = setTimeout(onAbort, req.timeoutMs)
      const waiter: Waiter = {
        userId: req.userId,
        cursor,
        limit: req.limit,
        // The one exit of a held poll: event, timeout, abort and shutdown all come here.
        settle: (answer) => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          req.departure.onLeave(null)
          this.registry.remove(waiter)
          resolve(answer)
        }
      }
      req.departure.onLeave(onAbort)
      this.registry.add(waiter)
      // The feed may have moved between the first scan and now.
      const again = this.scan(req.userId, rooms, cursor, req.limit)
      if (again.events.length > 0) waiter.settle(again)
      else this.feed.nudge()
    })
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
      if (e.type === 'member.left') users.add(e.userId)
    }
    for (const roomId of rooms) {
      const members = this.membership.membersOf(roomId)
      if (members === undefined) continue
      for (const userId of members) if (this.registry.hasUser(userId)) users.add(userId)
    }
    for (const userId of users) {
      const waiters = this.registry.of(userId)
      if (waiters === undefined) continue
      const userRooms = this.membership.cachedRooms(userId)
      if (userRooms === undefined) continue
      for (const w of [...waiters]) {
        const answer = this.scan(userId, userRooms, w.cursor, w.limit)
        if (answer.events.length > 0) w.settle(answer)
      }
    }
  }

  private dispatchEphemeral (event: EphemeralEvent): void {
    const members = this.membership.membersOf(event.roomId)
    if (members === undefined) return
    for (const userId of members) {
      if (userId === event.userId) continue
      const waiters = this.registry.of(userId)
      if (waiters === undefined) continue
      // Ephemeral events never move the cursor.
      for (const w of [...waiters]) w.settle({ events: [event.json], cursor: w.cursor, hasMore: false })
    }
  }

  private releaseUser (userId: number): void {
    const waiters = this.registry.of(userId)
    if (waiters === undefined) return
    for (const w of [...waiters]) w.settle({ events: [], cursor: w.cursor, hasMore: false })
  }
}
