import type { EventRow } from '../db/rows.js'
import { eventFromRow, eventJson, membershipChange, storedEventJson } from './event.js'
import type { VisibilityFacts } from './visibility.js'

/** A committed event as the feed holds it: routing facts plus its ready-made JSON. */
export interface FeedEvent extends VisibilityFacts {
  userId: number
  type: string
  /** The public JSON, or null for internal events that no client sees. */
  json: string | null
  /** The membership this event changes, if it is a join or a leave. */
  change: { userId: number, roomId: number, joined: boolean } | null
}

export interface EphemeralEvent {
  roomId: number
  userId: number
  type: string
  json: string
}

export function toFeedEvent (row: EventRow): FeedEvent {
  const stored = eventFromRow(row)
  const json = storedEventJson(stored)
  return {
    id: stored.id,
    roomId: stored.roomId,
    userId: Number(row.user_id),
    targetUserId: stored.targetUserId ?? null,
    type: stored.type,
    public: json !== null,
    json,
    change: membershipChange(stored)
  }
}

/** A row of ephemeral_events with its sender's names. */
export interface EphemeralRow {
  room_id: string | number
  user_id: string | number
  type: string
  created_at: string | number
  username: string
  display_name: string
}

/** A typing notice as listeners get it: ephemeral, so it has no event id. */
export function toEphemeralEvent (row: EphemeralRow): EphemeralEvent {
  return {
    roomId: Number(row.room_id),
    userId: Number(row.user_id),
    type: row.type,
    json: eventJson({
      id: null,
      type: 'typing',
      roomId: Number(row.room_id),
      user: { id: String(row.user_id), username: row.username, displayName: row.display_name },
      createdAt: Number(row.created_at),
      payload: {}
    })
  }
}
