import type { FeedEvent } from '../events/feed.js'
import { visibleTo, type MembershipSpans } from '../events/visibility.js'
import type { PollAnswer } from './waiters.js'

/**
 * The events among `events` (in id order) that the user may see, cut at
 * `limit` events or about `maxBytes` of JSON (one event always goes); when cut,
 * `hasMore` and the cursor of the last one taken, else the cursor unchanged.
 */
export function collectVisible (userId: number, spans: MembershipSpans, cursor: number, limit: number, maxBytes: number, events: FeedEvent[]): PollAnswer {
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
