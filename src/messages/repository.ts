import { CompiledQuery } from 'kysely'
import { insertRows, type Executor } from '../db/connect.js'
import { attachmentsByMessage, type AttachmentJson } from '../attachments/repository.js'
import type { Static } from 'typebox'
import type { EventRow } from '../db/rows.js'
import { eventFromRow, eventObject, eventRowColumns, storedEventJson, userFromRow, type PublicUser } from '../events/event.js'
import type { EventSchema } from '../http/schemas.js'

/** A page of a room's history, in the shape the route's response schema documents. */
export interface HistoryPage { events: Array<Static<typeof EventSchema>>, hasMore: boolean }

export interface MessageRecord {
  id: number
  roomId: number
  userId: number
  text: string
  deleted: boolean
}

export async function findMessage (db: Executor, roomId: number, id: number): Promise<MessageRecord | undefined> {
  const row = await db.selectFrom('messages').select(['id', 'room_id', 'user_id', 'text', 'deleted_at'])
    .where('id', '=', id).where('room_id', '=', roomId).executeTakeFirst()
  return row === undefined
    ? undefined
    : { id: Number(row.id), roomId: Number(row.room_id), userId: Number(row.user_id), text: row.text, deleted: row.deleted_at !== null }
}

export async function insertMessages (db: Executor, rows: Array<{ id: number, roomId: number, userId: number, text: string, clientId: string | null, createdAt: number }>): Promise<void> {
  await insertRows(db, 'messages', ['id', 'room_id', 'user_id', 'text', 'client_id', 'created_at'],
    rows.map(r => [r.id, r.roomId, r.userId, r.text, r.clientId, r.createdAt]))
}

/** Who each message mentions, for counting unread mentions. */
export async function insertMentions (db: Executor, rows: Array<{ messageId: number, roomId: number, userId: number }>): Promise<void> {
  if (rows.length === 0) return
  await db.insertInto('mentions').values(rows.map(r => ({ message_id: r.messageId, room_id: r.roomId, user_id: r.userId }))).execute()
}

export async function replaceMentions (db: Executor, messageId: number, roomId: number, userIds: number[]): Promise<void> {
  await db.deleteFrom('mentions').where('message_id', '=', messageId).execute()
  await insertMentions(db, userIds.map(userId => ({ messageId, roomId, userId })))
}

/** Message ids already stored for these (user, clientId) pairs, keyed `user\nclientId`. */
export async function findByClientIds (db: Executor, pairs: Array<{ userId: number, clientId: string }>): Promise<Map<string, number>> {
  const found = new Map<string, number>()
  if (pairs.length === 0) return found
  const rows = await db.selectFrom('messages').select(['id', 'user_id', 'client_id'])
    .where('client_id', 'in', [...new Set(pairs.map(p => p.clientId))])
    .where('user_id', 'in', [...new Set(pairs.map(p => p.userId))])
    .execute()
  for (const r of rows) found.set(`${Number(r.user_id)}\n${r.client_id ?? ''}`, Number(r.id))
  return found
}

export async function updateText (db: Executor, id: number, text: string, at: number): Promise<void> {
  await db.updateTable('messages').set({ text, edited_at: at }).where('id', '=', id).execute()
}

export async function markDeleted (db: Executor, id: number, at: number): Promise<void> {
  await db.updateTable('messages').set({ deleted_at: at }).where('id', '=', id).execute()
}

/** The public JSON of stored events, by id (for answering a repeated send with the first event). */
export async function eventsById (db: Executor, ids: number[]): Promise<Map<number, string>> {
  const out = new Map<number, string>()
  if (ids.length === 0) return out
  const rows = await db.selectFrom('events as e').leftJoin('users as u', 'u.id', 'e.user_id')
    .select([...eventRowColumns]).where('e.id', 'in', ids).execute() as EventRow[]
  for (const r of rows) {
    const json = storedEventJson(eventFromRow(r))
    if (json !== null) out.set(Number(r.id), json)
  }
  return out
}

interface MessageRow {
  id: string | number
  room_id: string | number
  user_id: string | number
  text: string
  client_id: string | null
  created_at: string | number
  edited_at: string | number | null
  username: string
  display_name: string
  is_bot?: number | string | null
}

/** A stored message as a `message` event with its current text, as history and search show it. */
export function messageEvent (r: MessageRow, attachments?: AttachmentJson[]): Static<typeof EventSchema> {
  return eventObject({
    id: Number(r.id),
    type: 'message',
    roomId: Number(r.room_id),
    user: userFromRow(r),
    createdAt: Number(r.created_at),
    payload: {
      text: r.text,
      clientId: r.client_id,
      ...(attachments === undefined ? {} : { attachments }),
      ...(r.edited_at === null ? {} : { editedAt: new Date(Number(r.edited_at)).toISOString() })
    }
  }) as Static<typeof EventSchema>
}

const messageColumns = ['m.id', 'm.room_id', 'm.user_id', 'm.text', 'm.client_id', 'm.created_at', 'm.edited_at', 'u.username', 'u.display_name', 'u.is_bot'] as const

/** Live messages by id as events, in the order of `ids`. */
export async function messageEventsByIds (db: Executor, ids: number[]): Promise<Array<Static<typeof EventSchema>>> {
  if (ids.length === 0) return []
  const rows = await db.selectFrom('messages as m').innerJoin('users as u', 'u.id', 'm.user_id')
    .select(messageColumns).where('m.id', 'in', ids).where('m.deleted_at', 'is', null).execute()
  const byId = new Map(rows.map(r => [Number(r.id), r]))
  const files = await attachmentsByMessage(db, ids)
  return ids.flatMap(id => { const r = byId.get(id); return r === undefined ? [] : [messageEvent(r, files.get(id))] })
}

/** Where a page of history lies: below `before` (newest first kept), or above `after` (oldest first kept). */
export interface PageBounds { before: number | null, after: number | null }

/**
 * A page of live messages, oldest first, each with its current text: the
 * newest ones below `before`, or, given `after`, the oldest ones above it
 * (`hasMore` then says newer ones exist), so a client can read forward from a
 * message it jumped to.
 */
export async function history (db: Executor, roomId: number, bounds: PageBounds, limit: number): Promise<HistoryPage> {
  let q = db.selectFrom('messages as m').innerJoin('users as u', 'u.id', 'm.user_id')
    .select(messageColumns)
    .where('m.room_id', '=', roomId)
    .where('m.deleted_at', 'is', null)
  if (bounds.before !== null) q = q.where('m.id', '<', bounds.before)
  if (bounds.after !== null) q = q.where('m.id', '>', bounds.after)
  const forward = bounds.after !== null
  const rows = await q.orderBy('m.id', forward ? 'asc' : 'desc').limit(limit + 1).execute()
  const hasMore = rows.length > limit
  const page = forward ? rows.slice(0, limit) : rows.slice(0, limit).reverse()
  const files = await attachmentsByMessage(db, page.map(r => Number(r.id)))
  return { hasMore, events: page.map(r => messageEvent(r, files.get(Number(r.id)))) }
}

/** A sender whose credentials and membership came from memory: checked again in the send's transaction. */
export interface SenderCheck { tokenId: number, roomId: number }

/** A check that held: the token's user as stored now, and the room's name now. */
export interface SenderFound { userId: number, user: PublicUser, roomName: string }

/**
 * The checks that still hold, keyed `tokenId:roomId`: the token exists, its
 * account is not disabled, the account is a member of the room, and the room
 * is a live channel. What the request's authentication and RoomAccess.writer
 * check for a channel, in one statement for a whole batch; the caller compares
 * the user, and the room's name when the send named it.
 */
export async function checkSenders (db: Executor, checks: SenderCheck[]): Promise<Map<string, SenderFound>> {
  const out = new Map<string, SenderFound>()
  if (checks.length === 0) return out
  const pairs = [...new Map(checks.map(c => [`${c.tokenId}:${c.roomId}`, c])).values()]
  const rows = await db.executeQuery<SenderRow>(CompiledQuery.raw(senderCheckText(pairs.length), pairs.flatMap(c => [c.tokenId, c.roomId])))
  for (const r of rows.rows) out.set(`${Number(r.token_id)}:${Number(r.room_id)}`, { userId: Number(r.user_id), user: userFromRow(r), roomName: r.room_name ?? '' })
  return out
}

interface SenderRow { token_id: number | string, room_id: number | string, room_name: string | null, user_id: number | string, username: string | null, display_name: string | null }

/**
 * The check's statement, written out: it runs once per send batch, and
 * building it with kysely's builder cost more CPU than the database spent on
 * it (about 0.3 ms a batch, measured with --cpu-prof). Plain names and `?`
 * placeholders read the same in MySQL and SQLite. No is_bot: a token's sender
 * is shown as authentication shows it (publicUser).
 */
function senderCheckText (pairCount: number): string {
  return 'SELECT t.id AS token_id, m.room_id, r.name AS room_name, t.user_id, u.username, u.display_name' +
    ' FROM api_tokens t JOIN users u ON u.id = t.user_id JOIN memberships m ON m.user_id = t.user_id JOIN rooms r ON r.id = m.room_id' +
    " WHERE u.disabled_at IS NULL AND r.archived_at IS NULL AND r.kind = 'channel'" +
    ` AND (${Array.from({ length: pairCount }, () => '(t.id = ? AND m.room_id = ?)').join(' OR ')})`
}
