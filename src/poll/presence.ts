import type { FastifyBaseLogger } from 'fastify'
import type { Db } from '../db/connect.js'
import { markSeen } from '../auth/users.js'

const onlineForMs = 60000
const flushEveryMs = 20000

/**
 * Who is online: users with a poll held here, or seen by any node in the last
 * minute. Nodes share it through users.last_seen_at, written in one batched
 * statement every 20 s, so presence costs the database the same whatever the load.
 *
 * Away (the client's word on each poll: no input in any tab for a while) rides
 * along: the batch writes users.away with last_seen_at, and until then this
 * node's own latest observation wins over the stored one. Nodes that see the
 * same user at once (no sticky sessions) settle on the last flush's word.
 */
export class Presence {
  /** Users seen here since the last flush → whether their latest poll said away. */
  private readonly seen = new Map<number, boolean>()
  /** What this node last wrote per user, and when: only news (a newcomer, a change of away) hurries a flush. */
  private readonly written = new Map<number, { away: boolean, at: number }>()
  private soon: NodeJS.Timeout | null = null
  private timer: NodeJS.Timeout | null = null

  constructor (private readonly db: Db, private readonly log: FastifyBaseLogger, private readonly heldHere: (userId: number) => boolean) {}

  start (): void {
    this.timer = setInterval(() => { this.flush().catch(() => {}) }, flushEveryMs)
    this.timer.unref()
  }

  stop (): void {
    if (this.timer !== null) clearInterval(this.timer)
    if (this.soon !== null) clearTimeout(this.soon)
    this.timer = null
    this.soon = null
  }

  /** A poll (or XMPP stanza) from the user; `away` is what the poll said, the latest word wins. */
  touch (userId: number, away = false): void {
    this.seen.set(userId, away)
    // Someone who just came online, or went away or came back, should show so on other nodes soon;
    // users who keep polling as they were wait for the regular flush, so a busy node still writes every 20 s.
    const last = this.written.get(userId)
    const news = last === undefined || last.away !== away || Date.now() - last.at > onlineForMs - flushEveryMs
    if (news && this.soon === null) {
      this.soon = setTimeout(() => { this.soon = null; this.flush().catch(() => {}) }, 1000)
      this.soon.unref()
    }
  }

  isOnline (userId: number, lastSeenAt: number | null, now = Date.now()): boolean {
    return this.heldHere(userId) || this.seen.has(userId) || (lastSeenAt !== null && now - lastSeenAt < onlineForMs)
  }

  /** Away only counts while online; `stored` is users.away as read with `lastSeenAt`. */
  isAway (userId: number, lastSeenAt: number | null, stored: boolean, now = Date.now()): boolean {
    if (!this.isOnline(userId, lastSeenAt, now)) return false
    return this.seen.get(userId) ?? stored
  }

  async flush (): Promise<void> {
    if (this.seen.size === 0) return
    const away: number[] = []
    const here: number[] = []
    for (const [id, isAway] of this.seen) (isAway ? away : here).push(id)
    this.seen.clear()
    const at = Date.now()
    for (const id of here) this.written.set(id, { away: false, at })
    for (const id of away) this.written.set(id, { away: true, at })
    for (const [id, last] of this.written) if (at - last.at > onlineForMs) this.written.delete(id)
    try {
      await markSeen(this.db, here, at, false)
      await markSeen(this.db, away, at, true)
    } catch (err) {
      this.log.warn({ err }, 'could not record presence')
    }
  }
}
