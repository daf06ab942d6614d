import type { Executor } from '../db/connect.js'
import type { EventFeed, FeedEvent } from '../events/feed.js'
import { MembershipSpans } from '../events/visibility.js'

/** Loads a user's membership spans from the database. */
export type MembershipLoader = (userId: number) => Promise<MembershipSpans>

export async function loadMembershipSpans (db: Executor, userId: number): Promise<MembershipSpans> {
  const rows = await db.selectFrom('membership_spans').select(['room_id', 'joined_event_id', 'left_event_id'])
    .where('user_id', '=', userId).orderBy('joined_event_id').execute()
  const spans = new MembershipSpans()
  for (const r of rows) {
    spans.join(Number(r.room_id), Number(r.joined_event_id))
    if (r.left_event_id !== null) spans.leave(Number(r.room_id), Number(r.left_event_id))
  }
  return spans
}

interface Entry {
  spans: MembershipSpans
  touchedAt: number
  /** Nothing visible to this user in (quietAfter, quietTo]: lets a repeated poll skip what it looked at. */
  quietAfter: number
  quietTo: number
}

const idleEvictMs = 10 * 60 * 1000

/**
 * The membership spans of each recently active user, kept current by the event
 * stream itself: joins and leaves are applied as the feed reads them, on every
 * node. Spans say who was a member at each event, so what a user may see never
 * depends on when the poll is answered.
 */
export class MembershipCache {
  private readonly users = new Map<number, Entry>()
  /** The cached users with an open span in each room: only they can be woken by its events. */
  private readonly roomMembers = new Map<number, Set<number>>()
  private readonly loading = new Map<number, Promise<Entry>>()

  constructor (private readonly feed: EventFeed, private readonly load: MembershipLoader) {}

  async spansOf (userId: number): Promise<MembershipSpans> {
    return (await this.entry(userId)).spans
  }

  /** The cached users in a room now. */
  membersOf (roomId: number): ReadonlySet<number> | undefined {
    return this.roomMembers.get(roomId)
  }

  /** The spans of a user already in the cache, without loading. */
  cachedSpans (userId: number): MembershipSpans | undefined { return this.users.get(userId)?.spans }

  /** Like `spansOf` when the user is cached (marked as active), without a promise; else undefined. */
  activeSpans (userId: number): MembershipSpans | undefined {
    const cached = this.users.get(userId)
    if (cached === undefined) return undefined
    cached.touchedAt = Date.now()
    return cached.spans
  }

  quiet (userId: number): { after: number, to: number } | null {
    const e = this.users.get(userId)
    return e === undefined ? null : { after: e.quietAfter, to: e.quietTo }
  }

  /** Remembers that nothing in (after, to] is visible to the user: visibility is fixed per event, so this stays true. */
  setQuiet (userId: number, after: number, to: number): void {
    const e = this.users.get(userId)
    if (e === undefined || to <= after) return
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
        for (const roomId of entry.spans.rooms()) this.unindex(roomId, userId)
        this.users.delete(userId)
      }
    }
  }

  get size (): number { return this.users.size }

  private applyOne (e: FeedEvent): void {
    if (e.change === null) return
    const entry = this.users.get(e.change.userId)
    if (entry === undefined) return
    const { roomId, joined } = e.change
    if (joined) entry.spans.join(roomId, e.id)
    else entry.spans.leave(roomId, e.id)
    // Indexed while the membership reaches past this event (a leave the
    // database told of early keeps the user woken until the feed passes it).
    if (entry.spans.isOpenAfter(roomId, e.id)) this.index(roomId, e.change.userId)
    else this.unindex(roomId, e.change.userId)
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
      // pass later membership events while the query runs, so replay those
      // (spans ignore what they already hold).
      const before = this.feed.head
      const spans = await this.load(userId)
      if (before + 1 < this.feed.oldestInWindow) continue
      const entry: Entry = { spans, touchedAt: Date.now(), quietAfter: 0, quietTo: -1 }
      this.users.set(userId, entry)
      for (const roomId of spans.roomsOpenAfter(before)) this.index(roomId, userId)
      for (let id = before + 1; id <= this.feed.head; id++) {
        const e = this.feed.get(id)
        if (e?.change?.userId === userId) this.applyOne(e)
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
