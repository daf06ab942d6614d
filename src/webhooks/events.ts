import type { Executor } from '../db/connect.js'
import type { EventRow } from '../db/rows.js'
import { eventFromRow, eventRowColumns, storedEventJson } from '../events/event.js'

/** Event types an outgoing webhook may subscribe to (ephemeral `typing` and private `read` are not offered). */
export const subscribableTypes = [
  'message', 'message.edited', 'message.deleted', 'member.joined', 'member.left',
  'member.role', 'room.created', 'room.updated', 'room.archived'
] as const

export interface RoomEvent {
  id: number
  type: string
  userId: number
  /** Events meant for one user (read markers) are never delivered. */
  targeted: boolean
  /** The event as a poll gives it. */
  json: string
}

/** The room's next events after `after`, in stream order, as JSON built by the stream's own builder. */
export async function roomEventsAfter (db: Executor, roomId: number, after: number, limit: number): Promise<RoomEvent[]> {
  const rows = await db.selectFrom('events as e').leftJoin('users as u', 'u.id', 'e.user_id')
    .select([...eventRowColumns])
    .where('e.room_id', '=', roomId)
    .where('e.id', '>', after)
    .orderBy('e.id')
    .limit(limit)
    .execute() as EventRow[]
  // Internal events (no public JSON) are passed over like unsubscribed ones.
  return rows.flatMap(r => {
    const json = storedEventJson(eventFromRow(r))
    return json === null
      ? []
      : [{
          id: Number(r.id),
          type: r.type,
          userId: Number(r.user_id),
          targeted: r.target_user_id !== null,
          json
        }]
  })
}

export async function roomName (db: Executor, roomId: number): Promise<string | null> {
  const row = await db.selectFrom('rooms').select('name').where('id', '=', roomId).executeTakeFirst()
  return row?.name ?? null
}
