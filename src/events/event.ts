/** Who did something, as every event and member list shows it. */
export interface PublicUser {
  id: string
  username: string
  displayName: string
}

/** Event types a poll can return. `typing` is ephemeral; the rest are durable. */
export type PublicEventType =
  | 'message' | 'message.edited' | 'message.deleted'
  | 'member.joined' | 'member.left' | 'member.role' | 'member.banned' | 'member.unbanned'
  | 'room.created' | 'room.updated' | 'room.archived' | 'read' | 'typing'

/**
 * Durable events that only the server reads: `auth` tells every node that a
 * user's sessions or tokens changed, so caches drop what they held.
 */
export type InternalEventType = 'auth'

export type EventType = PublicEventType | InternalEventType

export const isInternalType = (type: string): boolean => type === 'auth'

/** An event about to be written; `payload` holds the type's own fields. */
export interface NewEvent {
  type: EventType
  roomId: number | null
  user: PublicUser
  /** When set, only this user may see the event (read markers, auth). */
  targetUserId?: number | null
  payload?: Record<string, unknown>
}

export interface StoredEvent extends NewEvent {
  id: number
  createdAt: number
}

/** The public JSON of an event; the same text is sent by the send route and by every poll. */
export function eventJson (e: { id: number | null, type: string, roomId: number | null, user: PublicUser, createdAt: number, payload?: Record<string, unknown> | null }): string {
  return JSON.stringify({
    id: e.id === null ? null : String(e.id),
    type: e.type,
    roomId: e.roomId === null ? null : String(e.roomId),
    user: e.user,
    createdAt: new Date(e.createdAt).toISOString(),
    ...(e.payload ?? {})
  })
}
