import type { FastifyBaseLogger } from 'fastify'
import type { Db } from '../db/connect.js'
import { markSeen } from '../auth/users.js'

const onlineForMs = 60000
const flushEveryMs = 20000

/**
 * Who is online: users with a poll held here, or seen by any node in the last
 * minute. Nodes share it through users.last_seen_at, written in one batched
 * statement every 20 s, so presence costs the database the same whatever the load.
 */
export class Presence {
  private readonly seen = new Set<number>()
  private timer: NodeJS.Timeout | null = null

  constructor (private readonly db: Db, private readonly log: FastifyBaseLogger, private readonly heldHere: (userId: number) => boolean) {}

  start (): void {
    this.timer = setInterval(() => { this.flush().catch(() => {}) }, flushEveryMs)
    this.timer.unref()
  }

  stop (): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }

  touch (userId: number): void {
    if (!this.seen.has(userId)) {
      const first = this.seen.size === 0
      this.seen.add(userId)
      // Someone who just came online should show so on other nodes soon.
      if (first) setTimeout(() => { this.flush().catch(() => {}) }, 1000).unref()
    }
  }

  isOnline (userId: number, lastSeenAt: number | null, now = Date.now()): boolean {
    return this.heldHere(userId) || this.seen.has(userId) || (lastSeenAt !== null && now - lastSeenAt < onlineForMs)
  }

  async flush (): Promise<void> {
    if (this.seen.size === 0) return
    const ids = [...this.seen]
    this.seen.clear()
    try {
      await markSeen(this.db, ids, Date.now())
    } catch (err) {
      this.log.warn({ err }, 'could not record presence')
    }
  }
}
