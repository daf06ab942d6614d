import type { FastifyBaseLogger } from 'fastify'
import { sql } from 'kysely'
import type { Db } from '../db/connect.js'
import type { EventRow } from '../db/rows.js'
import { CoalescedRead } from './coalesced-read.js'
import { eventRowColumns } from './event.js'
import { toFeedEvent, type FeedEvent } from './feed-event.js'
import { FeedWindow } from './feed-window.js'
import { TypingReader, type EphemeralListener } from './typing-reader.js'
import type { MembershipSpans } from './visibility.js'

export { toFeedEvent, type EphemeralEvent, type FeedEvent } from './feed-event.js'

export type BatchListener = (batch: FeedEvent[]) => void

export interface FeedOptions {
  db: Db
  log: FastifyBaseLogger
  /** How often to look for events written by other processes while polls are held. */
  intervalMs: number
  /** How many recent events to keep in memory for polls to read. */
  window: number
  /** How many bytes of event JSON the window may hold. */
  windowBytes: number
  /** Whether anyone is waiting: an idle process looks less often. */
  hasWaiters: () => boolean
}

const batchSize = 1000
const idleIntervalMs = 1000
const gapGiveUpMs = 10000
const rangesPerQuery = 200

/**
 * The one reader of the event stream in this process. It takes newly committed
 * events in id order (this process's own writes as they commit, and other
 * processes' writes read at a short interval), keeps a window of recent events
 * in memory, and tells its listeners. However many polls are held, the database
 * sees the same few queries.
 */
export class EventFeed {
  private readonly window: FeedWindow
  private headId = 0
  /** The highest event id this process committed itself: polls here wait for it (read-your-writes). */
  localCommitted = 0
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  private again = false
  private closed = false
  private gapSince = 0
  private lastTickAt = 0
  private failures = 0
  private readonly batchListeners: BatchListener[] = []
  private readonly typing: TypingReader
  private readonly headWaiters = new Set<{ id: number, resolve: () => void }>()
  private readonly committedHead = new CoalescedRead(async () => {
    const row = await this.options.db.selectFrom('event_seq').select('last_id').where('id', '=', 1).executeTakeFirst()
    return Number(row?.last_id ?? 0)
  })

  constructor (private readonly options: FeedOptions) {
    this.window = new FeedWindow(options)
    this.typing = new TypingReader(options.db, options.log, options.intervalMs)
  }

  get head (): number { return this.headId }
  get oldestInWindow (): number { return this.window.start }

  onBatch (listener: BatchListener): void { this.batchListeners.push(listener) }
  onEphemeral (listener: EphemeralListener): void { this.typing.onNotice(listener) }

  async start (): Promise<void> {
    this.headId = await this.readCommittedHead()
    this.window.start = this.headId + 1
    await this.typing.start()
    this.schedule(this.options.intervalMs)
  }

  close (): void {
    this.closed = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    for (const w of this.headWaiters) w.resolve()
    this.headWaiters.clear()
  }

  /**
   * The highest committed event id, straight from the counter, as of a read
   * sent after this call (callers asking at the same time share it).
   */
  async readCommittedHead (): Promise<number> {
    return await this.committedHead.get()
  }

  /** Look for new typing notices now (this process wrote one). */
  wakeForEphemeral (): void {
    this.typing.markDue()
    this.wake()
  }

  /** Look for new events now (after this process committed some, or a poll arrived). */
  wake (): void {
    if (this.closed) return
    if (this.running !== null) { this.again = true; return }
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.running = this.tick().finally(() => {
      this.running = null
      // A wake-up that came after the tick's last look must not wait for the timer.
      if (this.again) this.wake()
    })
  }

  /** Events this process just committed: taken as written when they are the next ids, else read. */
  // Nothing can come between the head and them: ids are dense, and a writer holds the counter until it commits.
  takeCommitted (rows: readonly EventRow[]): void {
    if (this.closed || this.running !== null || rows[0]?.id !== this.headId + 1) { this.wake(); return }
    this.append(rows.map(toFeedEvent))
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
    return this.window.get(id)
  }

  /** Whether a tick is running (tests use it to see that a wake-up was not lost). */
  get busy (): boolean { return this.running !== null }

  /**
   * Candidates for a user's poll after `after` up to `upTo`, from the database,
   * for a client whose cursor is older than the window: read room by room along
   * the user's membership spans through the (room_id, id) index, at most
   * `limit + 1` per room, so a far-behind cursor never scans the whole table.
   * The caller applies the visibility rule to what comes back.
   */
  async readMemberRanges (after: number, upTo: number, userId: number, spans: MembershipSpans, limit: number): Promise<FeedEvent[]> {
    const ranges = spans.rangesWithin(after, upTo)
    if (ranges.length === 0) return []
    const n = sql.lit(limit + 1)
    const out: EventRow[] = []
    // SQLite allows 500 terms in one compound SELECT: a user in many rooms is read in chunks.
    for (let c = 0; c < ranges.length; c += rangesPerQuery) {
      const parts = ranges.slice(c, c + rangesPerQuery).map((r, i) => sql`SELECT * FROM (SELECT e.id, e.room_id, e.user_id, e.target_user_id, e.type, e.body, e.created_at, u.username, u.display_name, u.is_bot
        FROM events e LEFT JOIN users u ON u.id = e.user_id
        WHERE e.room_id = ${r.roomId} AND e.id > ${r.after} AND e.id <= ${r.upTo} AND (e.target_user_id IS NULL OR e.target_user_id = ${userId})
        ORDER BY e.id LIMIT ${n}) ${sql.raw(`r${i}`)}`)
      const { rows } = await sql<EventRow>`${sql.join(parts, sql` UNION ALL `)} ORDER BY id LIMIT ${n}`.execute(this.options.db)
      out.push(...rows)
    }
    return out.sort((a, b) => Number(a.id) - Number(b.id)).slice(0, limit + 1).map(toFeedEvent)
  }

  /** The oldest event id still stored (the head + 1 when none is). */
  async readOldestKept (): Promise<number> {
    const row = await this.options.db.selectFrom('events').select(eb => eb.fn.min('id').as('min')).executeTakeFirst()
    return row?.min === null || row?.min === undefined ? (await this.readCommittedHead()) + 1 : Number(row.min)
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
        if (this.options.hasWaiters()) await this.typing.readIfDue()
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
      .select([...eventRowColumns])
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
        this.window.reset(this.headId + 1)
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
    this.window.append(batch)
    this.headId += batch.length
    for (const listener of this.batchListeners) {
      try { listener(batch) } catch (err) { this.options.log.error({ err }, 'feed listener failed') }
    }
    for (const w of [...this.headWaiters]) if (this.headId >= w.id) w.resolve()
  }
}
