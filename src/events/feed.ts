import type { FastifyBaseLogger } from 'fastify'
import type { Db } from '../db/connect.js'
import type { EventRow } from '../db/rows.js'
import { eventJson, isInternalType, userFromRow } from './event.js'

/** A committed event as the feed holds it: routing facts plus its ready-made JSON. */
export interface FeedEvent {
  id: number
  roomId: number | null
  userId: number
  targetUserId: number | null
  type: string
  /** The public JSON, or null for internal events that no client sees. */
  json: string | null
}

export interface EphemeralEvent {
  roomId: number
  userId: number
  type: string
  json: string
}

export type BatchListener = (batch: FeedEvent[]) => void
export type EphemeralListener = (event: EphemeralEvent) => void

export interface FeedOptions {
  db: Db
  log: FastifyBaseLogger
  /** How often to look for events written by other processes while polls are held. */
  intervalMs: number
  /** How many recent events to keep in memory for polls to read. */
  window: number
  /** Whether anyone is waiting: an idle process looks less often. */
  hasWaiters: () => boolean
}

const batchSize = 1000
const idleIntervalMs = 1000
const gapGiveUpMs = 10000
const ephemeralMaxAgeMs = 10000

function toFeedEvent (row: EventRow): FeedEvent {
  const id = Number(row.id)
  const roomId = row.room_id === null ? null : Number(row.room_id)
  const internal = isInternalType(row.type)
  return {
    id,
    roomId,
    userId: Number(row.user_id),
    targetUserId: row.target_user_id === null ? null : Number(row.target_user_id),
    type: row.type,
    json: internal
      ? null
      : eventJson({
        id,
        type: row.type,
        roomId,
        user: userFromRow(row),
        createdAt: Number(row.created_at),
        payload: row.body === null ? null : JSON.parse(row.body) as Record<string, unknown>
      })
  }
}

/**
 * The one reader of the event stream in this process. It takes newly committed
 * events in id order (woken at once by this process's own writes, and at a
 * short interval for other processes' writes), keeps a window of recent events
 * in memory, and tells its listeners. However many polls are held, the database
 * sees the same few queries.
 */
export class EventFeed {
  private events: FeedEvent[] = []
  private windowStart = 1
  private headId = 0
  private ephemeralHead = 0
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  private again = false
  private closed = false
  private gapSince = 0
  private lastTickAt = 0
  private failures = 0
  private readonly batchListeners: BatchListener[] = []
  private readonly ephemeralListeners: EphemeralListener[] = []
  private readonly headWaiters = new Set<{ id: number, resolve: () => void }>()

  constructor (private readonly options: FeedOptions) {}

  get head (): number { return this.headId }
  get oldestInWindow (): number { return this.windowStart }

  onBatch (listener: BatchListener): void { this.batchListeners.push(listener) }
  onEphemeral (listener: EphemeralListener): void { this.ephemeralListeners.push(listener) }

  async start (): Promise<void> {
    this.headId = await this.readCommittedHead()
    this.windowStart = this.headId + 1
    const eph = await this.options.db.selectFrom('ephemeral_events').select(eb => eb.fn.max('id').as('max')).executeTakeFirst()
    this.ephemeralHead = Number(eph?.max ?? 0)
    this.schedule(this.options.intervalMs)
  }

  close (): void {
    this.closed = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    for (const w of this.headWaiters) w.resolve()
    this.headWaiters.clear()
  }

  /** The highest committed event id, straight from the counter. */
  async readCommittedHead (): Promise<number> {
    const row = await this.options.db.selectFrom('event_seq').select('last_id').where('id', '=', 1).executeTakeFirst()
    return Number(row?.last_id ?? 0)
  }

  /** Look for new events now (after this process committed some, or a poll arrived). */
  wake (): void {
    if (this.closed) return
    if (this.running !== null) { this.again = true; return }
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.running = this.tick().finally(() => { this.running = null })
  }

  /** Wakes the reader unless it looked very recently: a parked poll must not wait for an idle tick. */
  nudge (): void {
    if (Date.now() - this.lastTickAt > this.options.intervalMs) this.wake()
  }

  /** Resolves once the reader has passed `id` (or after `timeoutMs`). */
  async waitForHead (id: number, timeoutMs: number): Promise<boolean> {
    if (this.headId >= id) return true
    this.wake()
    return await new Promise<boolean>(resolve => {
      const entry = {
        id,
        resolve: () => { clearTimeout(timer); this.headWaiters.delete(entry); resolve(this.headId >= id) }
      }
      const timer = setTimeout(entry.resolve, timeoutMs)
      timer.unref()
      this.headWaiters.add(entry)
    })
  }

  /** The event with this id if the window still holds it. */
  get (id: number): FeedEvent | undefined {
    return this.events[id - this.windowStart]
  }

  /**
   * Events after `after` up to `upTo` that a user may see, from the database,
   * for a client whose cursor is older than the window. At most `limit + 1`,
   * so the caller can tell whether the limit cut the answer.
   */
  async readVisible (after: number, upTo: number, userId: number, rooms: ReadonlySet<number>, limit: number): Promise<FeedEvent[]> {
    const roomIds = [...rooms]
    const rows = await this.options.db.selectFrom('events as e')
      .leftJoin('users as u', 'u.id', 'e.user_id')
      .select(['e.id', 'e.room_id', 'e.user_id', 'e.target_user_id', 'e.type', 'e.body', 'e.created_at', 'u.username', 'u.display_name', 'u.is_bot'])
      .where('e.id', '>', after)
      .where('e.id', '<=', upTo)
      .where('e.type', '<>', 'auth')
      .where(eb => eb.or([
        eb('e.target_user_id', '=', userId),
        eb.and([eb('e.type', '=', 'member.left'), eb('e.user_id', '=', userId)]),
        ...(roomIds.length > 0 ? [eb.and([eb('e.room_id', 'in', roomIds), eb('e.target_user_id', 'is', null)])] : [])
      ]))
      .orderBy('e.id')
      .limit(limit + 1)
      .execute() as EventRow[]
    return rows.map(toFeedEvent)
  }

  private schedule (ms: number): void {
    if (this.closed) return
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = setTimeout(() => { this.timer = null; this.wake() }, ms)
    this.timer.unref()
  }

  private async tick (): Promise<void> {
    let delay = this.options.hasWaiters() ? this.options.intervalMs : idleIntervalMs
    try {
      do {
        this.again = false
        this.lastTickAt = Date.now()
        let more = true
        while (more && !this.closed) more = await this.readBatch()
        if (this.options.hasWaiters()) await this.readEphemeral()
      } while (this.again && !this.closed)
      this.failures = 0
    } catch (err) {
      // The database may be restarting: keep polls held and retry with backoff.
      this.failures++
      delay = Math.min(5000, this.options.intervalMs * 2 ** Math.min(this.failures, 6))
      this.options.log.warn({ err }, 'event feed could not read the database; retrying')
    }
    this.schedule(delay)
  }

  /** Reads the next events in id order; true when there may be more right away. */
  private async readBatch (): Promise<boolean> {
    const rows = await this.options.db.selectFrom('events as e')
      .leftJoin('users as u', 'u.id', 'e.user_id')
      .select(['e.id', 'e.room_id', 'e.user_id', 'e.target_user_id', 'e.type', 'e.body', 'e.created_at', 'u.username', 'u.display_name', 'u.is_bot'])
      .where('e.id', '>', this.headId)
      .orderBy('e.id')
      .limit(batchSize)
      .execute() as EventRow[]
    if (rows.length === 0) return false
    const batch: FeedEvent[] = []
    for (const row of rows) {
      const id = Number(row.id)
      if (id !== this.headId + batch.length + 1) break
      batch.push(toFeedEvent(row))
    }
    if (batch.length === 0) {
      // Ids are dense, so a hole means an event row is missing. It cannot be
      // in flight (writers hold the counter until commit): after a while, if the
      // counter has passed it, it was deleted by hand, and waiting is pointless.
      if (this.gapSince === 0) this.gapSince = Date.now()
      if (Date.now() - this.gapSince > gapGiveUpMs && (await this.readCommittedHead()) >= Number(rows[0]?.id)) {
        this.options.log.error({ from: this.headId + 1, to: Number(rows[0]?.id) - 1 }, 'event ids missing from the events table; skipping them')
        this.headId = Number(rows[0]?.id) - 1
        this.events = []
        this.windowStart = this.headId + 1
        this.gapSince = 0
        return true
      }
      return false
    }
    this.gapSince = 0
    this.append(batch)
    return rows.length === batchSize
  }

  private append (batch: FeedEvent[]): void {
    for (const e of batch) this.events.push(e)
    this.headId += batch.length
    // Trim in chunks so the window is not shifted on every batch.
    const excess = this.events.length - this.options.window
    if (excess > this.options.window / 4) {
      this.events = this.events.slice(excess)
      this.windowStart += excess
    }
    for (const listener of this.batchListeners) {
      try { listener(batch) } catch (err) { this.options.log.error({ err }, 'feed listener failed') }
    }
    for (const w of [...this.headWaiters]) if (this.headId >= w.id) w.resolve()
  }

  private async readEphemeral (): Promise<void> {
    const rows = await this.options.db.selectFrom('ephemeral_events as e')
      .innerJoin('users as u', 'u.id', 'e.user_id')
      .select(['e.id', 'e.room_id', 'e.user_id', 'e.type', 'e.created_at', 'u.username', 'u.display_name'])
      .where('e.id', '>', this.ephemeralHead)
      .orderBy('e.id')
      .limit(batchSize)
      .execute()
    const freshAfter = Date.now() - ephemeralMaxAgeMs
    for (const row of rows) {
      this.ephemeralHead = Math.max(this.ephemeralHead, Number(row.id))
      if (Number(row.created_at) < freshAfter) continue
      const event: EphemeralEvent = {
        roomId: Number(row.room_id),
        userId: Number(row.user_id),
        type: row.type,
        json: eventJson({
          id: null,
          type: row.type,
          roomId: Number(row.room_id),
          user: { id: String(row.user_id), username: row.username, displayName: row.display_name },
          createdAt: Number(row.created_at)
        })
      }
      for (const listener of this.ephemeralListeners) {
        try { listener(event) } catch (err) { this.options.log.error({ err }, 'ephemeral listener failed') }
      }
    }
  }
}
