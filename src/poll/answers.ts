import type { FeedEvent } from '../events/feed.js'
import { visibleTo, type MembershipSpans } from '../events/visibility.js'
import type { PollAnswer } from './waiters.js'

/**
 * The events among `events` (in id order) that the user may see, cut at
 * `limit` events or about `maxBytes` of JSON (one event always goes); when cut,
 * `hasMore` and the cursor of the last one taken, else the cursor unchanged.
 */
export function collectVisible (userId: number, spans: MembershipSpans, cursor: number, limit: number, maxBytes: number, events: readonly FeedEvent[]): PollAnswer {
  const out: string[] = []
  let bytes = 0
  let lastId = cursor
  for (const e of events) {
    if (!visibleTo(e, userId, spans)) continue
    const json = e.json as string
    if (out.length === limit || (out.length > 0 && bytes + json.length > maxBytes)) {
      return { events: out, cursor: lastId, hasMore: true }
    }
    out.push(json)
    bytes += json.length + 1
    lastId = e.id
  }
  return { events: out, cursor, hasMore: false }
}

/**
 * The window's events in (from, head], kept from the last read: polls at one
 * cursor (a batch waking a room's members, their next polls) read them once.
 * Events in the window never change, so (from, head) says what the list holds.
 */
export class WindowSlice {
  private last: { from: number, head: number, events: FeedEvent[] } | null = null

  constructor (private readonly get: (id: number) => FeedEvent | undefined) {}

  /** The caller has checked that the window holds all of them. */
  read (from: number, head: number): readonly FeedEvent[] {
    const last = this.last
    if (last !== null && last.from === from && last.head === head) return last.events
    const events: FeedEvent[] = []
    for (let id = from + 1; id <= head; id++) events.push(this.get(id) as FeedEvent)
    this.last = { from, head, events }
    return events
  }
}

/** The answer as the bytes of its JSON body, kept on the answer: made once for an answer many polls share. */
export function answerBody (answer: PollAnswer): Buffer {
  answer.body ??= Buffer.from(`{"events":[${answer.events.join(',')}],"cursor":"${answer.cursor}","hasMore":${answer.hasMore}}`)
  return answer.body
}

const sameAnswer = (a: PollAnswer, b: PollAnswer): boolean => {
  if (a.cursor !== b.cursor || a.hasMore !== b.hasMore || a.events.length !== b.events.length) return false
  // The window's JSON strings are shared: equal events are the same string, compared by reference first.
  for (let i = 0; i < a.events.length; i++) if (a.events[i] !== b.events[i]) return false
  return true
}

// Answers kept per cursor while one batch is dispatched: enough for the common
// case (one room, many members at the same cursor) without a quadratic search
// when every poll sees something different.
const keptPerCursor = 4
const maxCursors = 1000

/**
 * Within one dispatch, polls that may see exactly the same events and get the
 * same cursor back get one answer object, whose JSON is then encoded once and written to
 * every socket. Sharing follows what each poll was computed to see, never a
 * guess about who sees what: visibility is per user and checked per poll.
 */
export class SharedAnswers {
  private readonly byCursor = new Map<number, PollAnswer[]>()

  /** The answer equal to `answer` already given to another poll of this batch, else `answer` itself. */
  share (answer: PollAnswer): PollAnswer {
    let kept = this.byCursor.get(answer.cursor)
    if (kept === undefined) {
      // Clients far behind each bring a cursor of their own: the set never grows past this.
      if (this.byCursor.size >= maxCursors) this.byCursor.clear()
      kept = []
      this.byCursor.set(answer.cursor, kept)
    }
    for (const k of kept) {
      if (sameAnswer(k, answer)) return k
    }
    if (kept.length === keptPerCursor) kept.shift()
    kept.push(answer)
    return answer
  }
}
