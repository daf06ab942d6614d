import { inTransaction, insertRows, lockEventCounter, reserveEventIds, type Dialect, type Db, type Tx } from '../db/connect.js'
import type { EventRow } from '../db/rows.js'
import { eventRowOf, membershipChange, type NewEvent, type StoredEvent } from './event.js'

/**
 * The events a transaction is adding. Ids are handed out at once (the counter
 * is locked), so a caller can store rows that point at an event before it ends.
 */
export class PendingEvents {
  readonly events: StoredEvent[] = []
  constructor (private lastId: number, private readonly now: number) {}

  append<E extends NewEvent> (event: E): E & { id: number, createdAt: number } {
    this.lastId++
    const stored = { ...event, id: this.lastId, createdAt: this.now }
    this.events.push(stored)
    return stored
  }

  get last (): number { return this.lastId }
}

export interface EventLogDeps { db: Db, dialect: Dialect }

/** For a writer that overlaps its transactions (SendBatcher). */
export interface WriteHooks {
  /**
   * Reads that need no lock, run in the transaction before it queues for the
   * counter lock (so while the writer before holds it). On SQLite right after
   * the lock instead: a read before the write lock could lose its snapshot to
   * another process's commit.
   */
  beforeLock?: (trx: Tx) => Promise<void>
  /** Called once the transaction holds the counter lock (every attempt). */
  locked?: () => void
}

/**
 * The only way events are written. The transaction locks the counter row first,
 * so all event writers across every process and node run one after another and
 * commit in id order; ids stay dense (a rollback returns them). Readers that
 * follow ids therefore never pass an uncommitted one. `onCommitted` hands the
 * committed rows, as written, to this process's feed at once.
 */
export class EventLog {
  constructor (private readonly deps: EventLogDeps, private readonly onCommitted: (rows: readonly EventRow[]) => void) {}

  /**
   * `expected`: how many events the transaction will most likely append (a
   * batch of sends). On MySQL the counter is then locked and advanced by that
   * many in one statement, which saves the final update; if the transaction
   * appends another number, the counter is set right before it commits, so ids
   * stay dense either way.
   */
  async write<T> (fn: (trx: Tx, pending: PendingEvents) => Promise<T>, expected = 0, hooks: WriteHooks = {}): Promise<{ result: T, events: StoredEvent[] }> {
    const out = await inTransaction(this.deps, async (trx) => {
      const mysql = this.deps.dialect === 'mysql'
      if (mysql) await hooks.beforeLock?.(trx)
      const reserved = expected > 0 && mysql
      const last = reserved ? await reserveEventIds(trx, expected) - expected : await lockEventCounter(trx, this.deps.dialect)
      hooks.locked?.()
      if (!mysql) await hooks.beforeLock?.(trx)
      const pending = new PendingEvents(last, Date.now())
      const result = await fn(trx, pending)
      if (reserved && pending.last !== last + expected) {
        await trx.updateTable('event_seq').set({ last_id: pending.last }).where('id', '=', 1).execute()
      }
      const rows = pending.events.map(eventRowOf)
      if (rows.length > 0) {
        await insertRows(trx, 'events', ['id', 'room_id', 'user_id', 'target_user_id', 'type', 'body', 'created_at'],
          rows.map(r => [r.id, r.room_id, r.user_id, r.target_user_id, r.type, r.body, r.created_at]))
        await recordMembershipSpans(trx, pending.events)
        if (!reserved) await trx.updateTable('event_seq').set({ last_id: pending.last }).where('id', '=', 1).execute()
      }
      return { result, events: pending.events, rows }
    })
    if (out.rows.length > 0) this.onCommitted(out.rows)
    return { result: out.result, events: out.events }
  }
}

/**
 * Keeps membership_spans in step with the membership events of a transaction,
 * whoever wrote them (joins, leaves, kicks, bans): the spans are what polls use
 * to decide visibility at each place in the stream.
 */
async function recordMembershipSpans (trx: Tx, events: StoredEvent[]): Promise<void> {
  for (const e of events) {
    const change = membershipChange(e)
    if (change === null) continue
    if (change.joined) {
      await trx.insertInto('membership_spans').values({ user_id: change.userId, room_id: change.roomId, joined_event_id: e.id, left_event_id: null }).execute()
    } else {
      await trx.updateTable('membership_spans').set({ left_event_id: e.id })
        .where('user_id', '=', change.userId).where('room_id', '=', change.roomId).where('left_event_id', 'is', null)
        .execute()
    }
  }
}
