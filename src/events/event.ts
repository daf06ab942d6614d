import type { EventRow } from '../db/rows.js'

/** Who did something, as every event and member list shows it. */
export interface PublicUser {
  id: string
  username: string
  displayName: string
  /** Present on a webhook's bot user only. */
  bot?: true
}

/** A user as events show it, from the users columns every event query joins. */
export function userFromRow (r: { user_id: string | number, username: string | null, display_name: string | null, is_bot?: number | string | null }): PublicUser {
  const user: PublicUser = { id: String(r.user_id), username: r.username ?? '', displayName: r.display_name ?? '' }
  if (Number(r.is_bot ?? 0) === 1) user.bot = true
  return user
}

/**
 * Each event type and the fields it adds to the common ones. The one place that
 * says what an event carries: writers, the feed, history and the send answer all
 * go through the types and builders below.
 */
export interface EventPayloads {
  /** `editedAt` only in history, once the message was edited. */
  /** `attachments` on a file message (see src/attachments). */
  message: { text: string, clientId: string | null, editedAt?: string, attachments?: unknown[], mentions?: string[] }
  'message.edited': { messageId: string, text: string, mentions?: string[] }
  /** `by`: who deleted it (the author, a moderator or an administrator). */
  'message.deleted': { messageId: string, by?: PublicUser }
  /** `addedBy` when another member added the user. */
  'member.joined': { addedBy?: PublicUser }
  /** `target` and `by` when a moderator removed the member (kick, ban); the member is `target` then. */
  'member.left': { target?: PublicUser, by?: PublicUser }
  'member.role': { target: PublicUser, role: string }
  'room.created': { room: object }
  'room.updated': { room: object }
  'room.archived': { room?: object }
  /** To the room's moderators' views: who was banned or let back in, and by whom. */
  'member.banned': { target: PublicUser, by: PublicUser }
  'member.unbanned': { target: PublicUser, by: PublicUser }
  /** Only to the reader (the event's target). */
  read: { eventId: string }
  /** Ephemeral: never stored as an event, `id: null`. */
  typing: Record<string, never>
  /**
   * Internal: tells every node that a user's sessions or tokens changed, so
   * caches drop what they held. No client ever sees it.
   */
  auth: Record<string, never>
}

export type EventType = keyof EventPayloads
export type PublicEventType = Exclude<EventType, 'auth'>

export const isInternalType = (type: string): boolean => type === 'auth'

type EventOf<T extends EventType> = {
  type: T
  roomId: number | null
  user: PublicUser
  /** When set, only this user may see the event (read markers, auth). */
  targetUserId?: number | null
} & ({} extends EventPayloads[T] ? { payload?: EventPayloads[T] } : { payload: EventPayloads[T] })

/** An event about to be written, discriminated by `type`. */
export type NewEvent = { [T in EventType]: EventOf<T> }[EventType]

export type StoredEvent = NewEvent & { id: number, createdAt: number }

/** An event as a client sees it (`id` null for ephemeral ones). */
export type PublicEvent = { [T in PublicEventType]: EventOf<T> & { id: number | null, createdAt: number } }[PublicEventType]

/** An event's public object: the common fields, then its type's own. */
export type PublicEventObject = { id: string | null, type: string, roomId: string | null, user: PublicUser, createdAt: string } & Record<string, unknown>

/** The public object of an event: common fields, then the type's own. */
export function eventObject (e: PublicEvent): PublicEventObject {
  return {
    id: e.id === null ? null : String(e.id),
    type: e.type,
    roomId: e.roomId === null ? null : String(e.roomId),
    user: e.user,
    createdAt: new Date(e.createdAt).toISOString(),
    ...(e.payload ?? {})
  }
}

/** The public JSON of an event; the same text is sent by the send route, by every poll and (as objects) by history. */
export function eventJson (e: PublicEvent): string {
  return JSON.stringify(eventObject(e))
}

/** A stored event's public JSON, or null for an internal one. */
export function storedEventJson (e: StoredEvent): string | null {
  return e.type === 'auth' ? null : eventJson(e)
}

/** Columns to select for `EventRow` from `events as e` left-joined with `users as u`. */
export const eventRowColumns = ['e.id', 'e.room_id', 'e.user_id', 'e.target_user_id', 'e.type', 'e.body', 'e.created_at', 'u.username', 'u.display_name', 'u.is_bot'] as const

/** What an event stores in `events.body`: its own fields as JSON, or null when it has none. */
export function eventBody (e: StoredEvent): string | null {
  return e.payload === undefined || Object.keys(e.payload).length === 0 ? null : JSON.stringify(e.payload)
}

/** An event just written, as the feed's query would read it back (the inverse of `eventFromRow`). */
export function eventRowOf (e: StoredEvent): EventRow {
  return {
    id: e.id,
    room_id: e.roomId,
    user_id: e.user.id,
    target_user_id: e.targetUserId ?? null,
    type: e.type,
    body: eventBody(e),
    created_at: e.createdAt,
    username: e.user.username,
    display_name: e.user.displayName,
    is_bot: e.user.bot === true ? 1 : 0
  }
}

/** A stored row back as the event it was written as. */
export function eventFromRow (row: EventRow): StoredEvent {
  return {
    id: Number(row.id),
    type: row.type as EventType,
    roomId: row.room_id === null ? null : Number(row.room_id),
    user: userFromRow(row),
    targetUserId: row.target_user_id === null ? null : Number(row.target_user_id),
    createdAt: Number(row.created_at),
    payload: (row.body === null ? {} : JSON.parse(row.body)) as never
  }
}

/**
 * Whose membership a `member.joined` / `member.left` changes: the `target` when
 * a moderator acted, else the event's user. Null for other events.
 */
export function membershipChange (e: NewEvent): { userId: number, roomId: number, joined: boolean } | null {
  if (e.roomId === null) return null
  if (e.type === 'member.joined') return { userId: Number(e.user.id), roomId: e.roomId, joined: true }
  if (e.type === 'member.left') return { userId: Number(e.payload?.target?.id ?? e.user.id), roomId: e.roomId, joined: false }
  return null
}
