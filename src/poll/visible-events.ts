import type { EventFeed, FeedEvent } from '../events/feed.js'
import type { MembershipSpans } from '../events/visibility.js'
import { AppError } from '../http/errors.js'
import { collectVisible, WindowSlice } from './answers.js'
import type { MembershipCache } from './membership-cache.js'
import type { PollAnswer } from './waiters.js'

/**
 * What a user may see after a cursor: from the in-memory window when it holds
 * everything after the cursor, else from the database. Remembers, per user, a
 * stretch with nothing visible, so a repeated look starts where the last ended.
 */
export class VisibleEvents {
  private readonly window: WindowSlice

  constructor (
    private readonly feed: EventFeed,
    private readonly membership: MembershipCache,
    /** About how many bytes of event JSON one answer may hold (at least one event always goes). */
    private readonly maxAnswerBytes: number
  ) {
    this.window = new WindowSlice(id => feed.get(id))
  }

  /**
   * The head committed to the database, not this process's reader's: another
   * process may have written events this one has not read yet, which a client
   * that loaded history from there must not receive again.
   */
  async startingCursor (): Promise<number> {
    // No fallback to the local head: a stale start would repeat events, and a
    // 503 just makes the client ask again.
    return Math.max(this.feed.head, await this.feed.readCommittedHead())
  }

  async catchUpTo (cursor: number): Promise<void> {
    // Another node may simply be ahead of this one's reader: only a cursor past
    // the database's own head is one this server cannot honour.
    const committed = await this.feed.readCommittedHead()
    if (cursor > committed) {
      throw new AppError('cursor_reset', 'That cursor is ahead of the server; reload and continue from the cursor given.', { cursor: String(committed) })
    }
    if (!await this.feed.waitForHead(cursor, 5000)) {
      throw new AppError('unavailable', 'The server is catching up; try again shortly.', { retryAfter: 1 })
    }
  }

  /**
   * What a user may see after `cursor`: from the window when it still holds
   * everything after the cursor, else from the database. The window may move
   * on while the database answers; then it is simply asked again.
   */
  async answer (userId: number, spans: MembershipSpans, cursor: number, limit: number): Promise<PollAnswer> {
    for (;;) {
      const fromWindow = this.scan(userId, spans, cursor, limit)
      if (fromWindow !== null) return fromWindow
      const fromDatabase = await this.readBehindWindow(userId, spans, cursor, limit)
      if (fromDatabase !== null) return fromDatabase
    }
  }

  /**
   * For a cursor older than the window: one indexed read along the user's
   * membership spans. Null when nothing was visible (remembered as quiet, so
   * the next look starts where this one ended).
   */
  private async readBehindWindow (userId: number, spans: MembershipSpans, cursor: number, limit: number): Promise<PollAnswer | null> {
    const from = this.scanStart(userId, cursor)
    const upTo = this.feed.head
    const candidates = await this.feed.readMemberRanges(from, upTo, userId, spans, limit)
    // Read after the events: whatever retention deleted by then is below this.
    const oldest = await this.feed.readOldestKept()
    if (cursor + 1 < oldest) {
      throw new AppError('cursor_reset', 'Events after that cursor are no longer kept; reload and continue from the cursor given.', { cursor: String(await this.startingCursor()) })
    }
    const cut = candidates.length > limit
    const answer = collectVisible(userId, spans, cursor, limit, this.maxAnswerBytes, candidates.slice(0, limit))
    if (answer.hasMore) return answer
    const lookedTo = cut ? (candidates[limit - 1] as FeedEvent).id : upTo
    if (answer.events.length === 0) {
      this.membership.setQuiet(userId, cursor, lookedTo)
      return null
    }
    return { events: answer.events, cursor: lookedTo, hasMore: cut }
  }

  private scanStart (userId: number, cursor: number): number {
    const quiet = this.membership.quiet(userId)
    return quiet !== null && cursor >= quiet.after && cursor <= quiet.to ? quiet.to : cursor
  }

  /**
   * What a user may see after `cursor`, from the window; null when the window
   * no longer holds all of it. Synchronous, so nothing can slip past a parking poll.
   */
  scan (userId: number, spans: MembershipSpans, cursor: number, limit: number): PollAnswer | null {
    const head = this.feed.head
    const from = this.scanStart(userId, cursor)
    if (from < head && from + 1 < this.feed.oldestInWindow) return null
    const answer = collectVisible(userId, spans, cursor, limit, this.maxAnswerBytes, this.window.read(from, head))
    if (answer.hasMore) return answer
    if (answer.events.length === 0) {
      this.membership.setQuiet(userId, cursor, head)
      return answer
    }
    return { events: answer.events, cursor: head, hasMore: false }
  }
}
