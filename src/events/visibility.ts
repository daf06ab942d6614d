/**
 * Who sees what: the one rule, used by the window scan, the database read for
 * clients behind the window and dispatch alike.
 *
 * A user receives an event of a room exactly when they were a member of that
 * room at that event: from their `member.joined` up to and including their own
 * `member.left`. Visibility is a fact about the event's place in the stream, so
 * it never changes once the membership events up to it are known.
 */

/** What the rule needs to know about an event. */
export interface VisibilityFacts {
  id: number
  roomId: number | null
  targetUserId: number | null
  /** False for internal events no client sees. */
  public: boolean
}

/** One stretch of membership: from the join event to the leave event, both included. */
export interface Span { from: number, to: number }

/**
 * A user's memberships over the stream: per room, the spans of event ids during
 * which they were a member, in order. Knowing a change early (a span loaded from
 * the database ahead of this process's reader) changes nothing for earlier ids.
 */
export class MembershipSpans {
  private readonly byRoom = new Map<number, Span[]>()

  /** Records a join at `id`; a join already known (by id) is ignored. */
  join (roomId: number, id: number): void {
    let spans = this.byRoom.get(roomId)
    if (spans === undefined) { spans = []; this.byRoom.set(roomId, spans) }
    if (spans.some(s => s.from === id)) return
    spans.push({ from: id, to: Infinity })
    spans.sort((a, b) => a.from - b.from)
  }

  /** Records a leave at `id`: closes the span open before it; a leave already known is ignored. */
  leave (roomId: number, id: number): void {
    const spans = this.byRoom.get(roomId)
    if (spans === undefined) return
    for (let i = spans.length - 1; i >= 0; i--) {
      const span = spans[i] as Span
      if (span.from < id) {
        if (span.to === Infinity) span.to = id
        return
      }
    }
  }

  memberAt (roomId: number, id: number): boolean {
    const spans = this.byRoom.get(roomId)
    if (spans === undefined) return false
    for (let i = spans.length - 1; i >= 0; i--) {
      const span = spans[i] as Span
      if (span.from <= id) return id <= span.to
    }
    return false
  }

  /** Rooms whose membership reaches past event `id` (a member still, or leaving later). */
  roomsOpenAfter (id: number): number[] {
    const out: number[] = []
    for (const [roomId, spans] of this.byRoom) if ((spans[spans.length - 1]?.to ?? -1) > id) out.push(roomId)
    return out
  }

  isOpenAfter (roomId: number, id: number): boolean {
    const spans = this.byRoom.get(roomId)
    return (spans?.[spans.length - 1]?.to ?? -1) > id
  }

  rooms (): IterableIterator<number> { return this.byRoom.keys() }

  /** Per room, the id ranges (after, upTo] within (after, upTo] where the user was a member. */
  rangesWithin (after: number, upTo: number): Array<{ roomId: number, after: number, upTo: number }> {
    const out: Array<{ roomId: number, after: number, upTo: number }> = []
    for (const [roomId, spans] of this.byRoom) {
      for (const span of spans) {
        const lo = Math.max(after, span.from - 1)
        const hi = Math.min(upTo, span.to)
        if (hi > lo) out.push({ roomId, after: lo, upTo: hi })
      }
    }
    return out
  }
}

/** Whether `userId`, with these memberships, receives the event. */
export function visibleTo (e: VisibilityFacts, userId: number, spans: MembershipSpans): boolean {
  if (!e.public || e.roomId === null) return false
  if (e.targetUserId !== null && e.targetUserId !== userId) return false
  return spans.memberAt(e.roomId, e.id)
}
