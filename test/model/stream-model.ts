/**
 * The reference model of the event stream: users, two rooms, memberships,
 * messages, edits, deletions and read markers, and what each user must receive.
 * Pure and deliberately naive (it replays the whole stream for every question),
 * so that it shares nothing with the server's spans, windows and caches.
 */

export type RoomKey = 'pub' | 'priv'
export const roomKeys: RoomKey[] = ['pub', 'priv']

/** An event as the model knows it: exactly the fields a poll answer is compared on. */
export interface ModelEvent {
  id: number
  type: 'message' | 'message.edited' | 'message.deleted' | 'member.joined' | 'member.left' | 'read'
  room: RoomKey
  /** The event's `user`: the author, or the member who joined or left. */
  user: number
  text?: string
  messageId?: number
  eventId?: number
  addedBy?: number
  /** Only this user receives it (read markers). */
  target?: number
}

export interface ModelMessage { id: number, room: RoomKey, author: number, deleted: boolean }

export class StreamModel {
  /** The head when the run began: events before it belong to earlier runs. */
  readonly base: number
  head: number
  readonly events: ModelEvent[] = []
  readonly messages: ModelMessage[] = []
  readonly members: Record<RoomKey, Set<number>>
  /** Per user: the cursor their client follows. */
  readonly cursors: number[]
  readonly readMarkers = new Map<string, number>()
  /** The head when the test last restarted a node (the runner's bookkeeping, not the stream's). */
  restartedAt = -Infinity
  private readonly initialMembers: Record<RoomKey, Set<number>>

  constructor (readonly users: number, readonly host: number, base: number) {
    this.base = base
    this.head = base
    this.members = { pub: new Set([host]), priv: new Set([host]) }
    this.initialMembers = { pub: new Set([host]), priv: new Set([host]) }
    this.cursors = Array.from({ length: users }, () => base)
  }

  isMember (user: number, room: RoomKey): boolean { return this.members[room].has(user) }

  append (event: Omit<ModelEvent, 'id'>): ModelEvent {
    const e = { ...event, id: ++this.head }
    this.events.push(e)
    if (e.type === 'member.joined') this.members[e.room].add(e.user)
    if (e.type === 'member.left') this.members[e.room].delete(e.user)
    if (e.type === 'message') this.messages.push({ id: e.id, room: e.room, author: e.user, deleted: false })
    if (e.type === 'message.deleted') {
      const m = this.messages.find(x => x.id === e.messageId)
      if (m !== undefined) m.deleted = true
    }
    if (e.type === 'read') this.readMarkers.set(`${e.user}:${e.room}`, e.eventId as number)
    return e
  }

  /**
   * Everything `user` receives after `after`, by replaying the stream: a member
   * from their join up to and including their own leave; targeted events only
   * to their target.
   */
  visibleAfter (user: number, after: number): ModelEvent[] {
    const rooms = new Set(roomKeys.filter(r => this.initialMembers[r].has(user)))
    const out: ModelEvent[] = []
    for (const e of this.events) {
      if (e.type === 'member.joined' && e.user === user) rooms.add(e.room)
      const visible = rooms.has(e.room) && (e.target === undefined || e.target === user)
      if (e.type === 'member.left' && e.user === user) rooms.delete(e.room)
      if (visible && e.id > after) out.push(e)
    }
    return out
  }

  /**
   * The exact answer a caught-up server gives to a poll: at most `limit` events;
   * when cut, `hasMore` and the last event's id as the cursor; otherwise the head
   * when something was found, else the same cursor.
   */
  expectedPoll (user: number, cursor: number, limit: number): { events: ModelEvent[], cursor: number, hasMore: boolean } {
    const all = this.visibleAfter(user, cursor)
    if (all.length > limit) {
      const events = all.slice(0, limit)
      return { events, cursor: (events[events.length - 1] as ModelEvent).id, hasMore: true }
    }
    return { events: all, cursor: all.length > 0 ? this.head : cursor, hasMore: false }
  }

  liveMessagesOf (user: number): ModelMessage[] {
    return this.messages.filter(m => m.author === user && !m.deleted && this.isMember(user, m.room))
  }
}
