import type { Executor } from '../db/connect.js'

/** Webhook rows as the rest of src/webhooks sees them (row types stay here). */
export interface IncomingHook { id: number, roomId: number, name: string, botUserId: number, createdAt: number, lastUsedAt: number | null }

export interface OutgoingHook {
  id: number
  roomId: number
  url: string
  events: string[]
  secret: string
  botUserId: number
  createdAt: number
  lastDeliveredEventId: number
  failing: boolean
  lastError: string | null
  attempts: number
  firstFailureAt: number | null
  nextAttemptAt: number
}

const num = (v: string | number | null): number | null => v === null ? null : Number(v)

export async function insertIncoming (db: Executor, h: { roomId: number, name: string, secretHash: string, botUserId: number, createdBy: number }): Promise<number> {
  const result = await db.insertInto('incoming_webhooks').values({
    room_id: h.roomId, name: h.name, secret_hash: h.secretHash, bot_user_id: h.botUserId, created_by: h.createdBy, created_at: Date.now()
  }).executeTakeFirstOrThrow()
  return Number(result.insertId)
}

const incomingColumns = ['id', 'room_id', 'name', 'bot_user_id', 'created_at', 'last_used_at'] as const
const toIncoming = (r: { id: string | number, room_id: string | number, name: string, bot_user_id: string | number, created_at: string | number, last_used_at: string | number | null }): IncomingHook =>
  ({ id: Number(r.id), roomId: Number(r.room_id), name: r.name, botUserId: Number(r.bot_user_id), createdAt: Number(r.created_at), lastUsedAt: num(r.last_used_at) })

export async function listIncoming (db: Executor, roomId: number): Promise<IncomingHook[]> {
  return (await db.selectFrom('incoming_webhooks').select(incomingColumns).where('room_id', '=', roomId).orderBy('id').execute()).map(toIncoming)
}

export async function findIncomingBySecret (db: Executor, secretHash: string): Promise<IncomingHook | undefined> {
  const row = await db.selectFrom('incoming_webhooks').select(incomingColumns).where('secret_hash', '=', secretHash).executeTakeFirst()
  return row === undefined ? undefined : toIncoming(row)
}

export async function touchIncoming (db: Executor, id: number, at: number): Promise<void> {
  await db.updateTable('incoming_webhooks').set({ last_used_at: at }).where('id', '=', id).execute()
}

export async function deleteIncoming (db: Executor, roomId: number, id: number): Promise<boolean> {
  const result = await db.deleteFrom('incoming_webhooks').where('id', '=', id).where('room_id', '=', roomId).executeTakeFirst()
  return Number(result.numDeletedRows) > 0
}

export async function countHooks (db: Executor, table: 'incoming_webhooks' | 'outgoing_webhooks', roomId: number): Promise<number> {
  const row = await db.selectFrom(table).select(eb => eb.fn.countAll().as('n')).where('room_id', '=', roomId).executeTakeFirst()
  return Number(row?.n ?? 0)
}

export async function insertOutgoing (db: Executor, h: { roomId: number, url: string, events: string[], secret: string, botUserId: number, createdBy: number, after: number }): Promise<number> {
  const result = await db.insertInto('outgoing_webhooks').values({
    room_id: h.roomId,
    url: h.url,
    events: h.events.join(','),
    secret: h.secret,
    bot_user_id: h.botUserId,
    created_by: h.createdBy,
    created_at: Date.now(),
    last_delivered_event_id: h.after
  }).executeTakeFirstOrThrow()
  const id = Number(result.insertId)
  await db.insertInto('webhook_leases').values({ webhook_id: id, holder: null, expires_at: 0 }).execute()
  return id
}

const outgoingColumns = ['id', 'room_id', 'url', 'events', 'secret', 'bot_user_id', 'created_at', 'last_delivered_event_id', 'failing', 'last_error', 'attempts', 'first_failure_at', 'next_attempt_at'] as const
type OutgoingRow = { [K in typeof outgoingColumns[number]]: K extends 'url' | 'events' | 'secret' ? string : K extends 'last_error' ? string | null : K extends 'first_failure_at' ? string | number | null : string | number }
const toOutgoing = (r: OutgoingRow): OutgoingHook => ({
  id: Number(r.id),
  roomId: Number(r.room_id),
  url: r.url,
  events: r.events.split(',').filter(e => e !== ''),
  secret: r.secret,
  botUserId: Number(r.bot_user_id),
  createdAt: Number(r.created_at),
  lastDeliveredEventId: Number(r.last_delivered_event_id),
  failing: Number(r.failing) === 1,
  lastError: r.last_error,
  attempts: Number(r.attempts),
  firstFailureAt: num(r.first_failure_at),
  nextAttemptAt: Number(r.next_attempt_at)
})

export async function listOutgoing (db: Executor, roomId: number): Promise<OutgoingHook[]> {
  return (await db.selectFrom('outgoing_webhooks').select(outgoingColumns).where('room_id', '=', roomId).orderBy('id').execute()).map(r => toOutgoing(r as OutgoingRow))
}

export async function findOutgoing (db: Executor, id: number): Promise<OutgoingHook | undefined> {
  const row = await db.selectFrom('outgoing_webhooks').select(outgoingColumns).where('id', '=', id).executeTakeFirst()
  return row === undefined ? undefined : toOutgoing(row as OutgoingRow)
}

export async function deleteOutgoing (db: Executor, roomId: number, id: number): Promise<boolean> {
  const result = await db.deleteFrom('outgoing_webhooks').where('id', '=', id).where('room_id', '=', roomId).executeTakeFirst()
  if (Number(result.numDeletedRows) === 0) return false
  // Without its lease row no node can renew the lease: a delivery in progress is the last.
  await db.deleteFrom('webhook_leases').where('webhook_id', '=', id).execute()
  return true
}

/** Takes a failing webhook out of its pause; it goes on from its cursor. */
export async function resumeOutgoing (db: Executor, roomId: number, id: number): Promise<boolean> {
  const result = await db.updateTable('outgoing_webhooks')
    .set({ failing: 0, attempts: 0, first_failure_at: null, next_attempt_at: 0, last_error: null })
    .where('id', '=', id).where('room_id', '=', roomId).executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

/**
 * Every webhook not marked failing, with its room and whether a delivery is
 * due (events after its cursor, and its next try has come): one statement
 * gives the worker both what to deliver and which rooms to watch.
 */
export async function activeOutgoing (db: Executor, now: number): Promise<Array<{ id: number, roomId: number, due: boolean }>> {
  const rows = await db.selectFrom('outgoing_webhooks as w')
    .select(eb => ['w.id', 'w.room_id', 'w.next_attempt_at', eb.exists(eb.selectFrom('events as e').select('e.id')
      .whereRef('e.room_id', '=', 'w.room_id').whereRef('e.id', '>', 'w.last_delivered_event_id')).as('pending')])
    .where('w.failing', '=', 0)
    .orderBy('w.id')
    .execute()
  return rows.map(r => ({ id: Number(r.id), roomId: Number(r.room_id), due: Number(r.next_attempt_at) <= now && Number(r.pending) === 1 }))
}

/** Moves the cursor past an acknowledged event; never backwards (two nodes may both have delivered it). */
export async function acknowledge (db: Executor, id: number, eventId: number): Promise<void> {
  await db.updateTable('outgoing_webhooks')
    .set({ last_delivered_event_id: eventId, attempts: 0, first_failure_at: null, next_attempt_at: 0, last_error: null })
    .where('id', '=', id).where('last_delivered_event_id', '<', eventId).execute()
}

export async function recordFailure (db: Executor, id: number, f: { attempts: number, firstFailureAt: number, nextAttemptAt: number, failing: boolean, error: string }): Promise<void> {
  await db.updateTable('outgoing_webhooks')
    .set({ attempts: f.attempts, first_failure_at: f.firstFailureAt, next_attempt_at: f.nextAttemptAt, failing: f.failing ? 1 : 0, last_error: f.error.slice(0, 500) })
    .where('id', '=', id).execute()
}
