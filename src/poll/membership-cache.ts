import type { EventFeed, FeedEvent } from '../events/feed.js'

/** Loads the ids of the rooms a user belongs to, from the database. */
export type MembershipLoader = (userId: number) => Promise<number[]>

interface Entry {
  rooms: Set<number>
  touchedAt: number
  /** Nothing visible to this user in (quietAfter, quietTo]: lets a repeated poll skip what it scanned. */
  quietAfter: number
  quietTo: number
}

const idleEvictMs = 10 * 60 * 1000

/**
 * Which rooms each recently active user is in, kept current by the event stream
 * itself: member.joined and member.left are applied in id order as the feed
 * reads them, so a membership change takes effect for polls exactly at its
 * place in the stream, on every node.
 */
export class MembershipCache {
  private readonly users = new Map<number, Entry>()
  private readonly roomMembers = new Map<number, Set<number>>()
  private readonly loading = new Map<number, Promise<Entry>>()

  constructor (private readonly feed: EventFeed, private readonly load: MembershipLoader) {}

  async roomsOf (userId: number): Promise<Set<number>> {
    return (await this.entry(userId)).rooms
  }

  /** The cached users in a room: only they can have polls waiting. */
  membersOf (roomId: number): ReadonlySet<number> | undefined {
    return this.roomMembers.get(roomId)
  }

  /** The rooms of a user already in the cache, without loading. */
  cachedRooms (userId: number): ReadonlySet<number> | undefined { return this.users.get(userId)?.rooms }

  quiet (userId: number): { after: number, to: number } | null {
    const e = this.users.get(userId)
    return e === undefined ? null : { after: e.quietAfter, to: e.quietTo }
  }

  setQuiet (userId: number, after: number, to: number): void {
    const e = this.users.get(userId)
    if (e === undefined) return
    if (after >= e.quietAfter && after <= e.quietTo) e.quietTo = Math.max(e.quietTo, to)
    else { e.quietAfter = after; e.quietTo = to }
  }

  /** Applies the membership changes in a batch, in order. Called by the feed before polls are told. */
  apply (batch: FeedEvent[]): void {
    for (const e of batch) this.applyOne(e)
  }

  /** Drops users who have not polled for a while; `keep` says who still has polls held. */
  evictIdle (keep: (userId: number) => boolean, now = Date.now()): void {
    for (const [userId, entry] of this.users) {
      if (now - entry.touchedAt > idleEvictMs && !keep(userId)) {
        for (const roomId of entry.rooms) this.unindex(roomId, userId)
        this.users.delete(userId)
      }
    }
  }

  get size (): number { return this.users.size }

  private applyOne (e: FeedEvent): void {
    if (e.roomId === null || (e.type !== 'member.joined' && e.type !== 'member.left')) return
    const entry = this.users.get(e.userId)
    if (entry === undefined) return
    if (e.type === 'member.joined') {
      entry.rooms.add(e.roomId)
      this.index(e.roomId, e.userId)
    } else {
      entry.rooms.delete(e.roomId)
      this.unindex(e.roomId, e.userId)
    }
    // What was invisible before may be visible now.
    entry.quietAfter = 0
    entry.quietTo = -1
  }

  private async entry (userId: number): Promise<Entry> {
    const cached = this.users.get(userId)
    if (cached !== undefined) {
      cached.touchedAt = Date.now()
      return cached
    }
    let pending = this.loading.get(userId)
    if (pending === undefined) {
      pending = this.fetch(userId).finally(() => this.loading.delete(userId))
      this.loading.set(userId, pending)
    }
    return await pending
  }

  private async fetch (userId: number): Promise<Entry> {
    for (;;) {
      // The rows read reflect at least everything up to `before`; the feed may
      // pass later membership events while the query runs, so replay those.
      const before = this.feed.head
      const rooms = new Set(await this.load(userId))
      if (before + 1 < this.feed.oldestInWindow) continue
      const entry: Entry = { rooms, touchedAt: Date.now(), quietAfter: 0, quietTo: -1 }
      this.users.set(userId, entry)
      for (const roomId of rooms) this.index(roomId, userId)
      for (let id = before + 1; id <= this.feed.head; id++) {
        const e = this.feed.get(id)
        if (e !== undefined && e.userId === userId) this.applyOne(e)
      }
      return entry
    }
  }

  private index (roomId: number, userId: number): void {
    let set = this.roomMembers.get(roomId)
    if (set === undefined) { set = new Set(); this.roomMembers.set(roomId, set) }
    set.add(userId)
  }

  private unindex (roomId: number, userId: number): void {
    const set = this.roomMembers.get(roomId)
    if (set === undefined) return
    set.delete(userId)
    if (set.size === 0) this.roomMembers.delete(roomId)
  }
}
