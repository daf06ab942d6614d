import type { FastifyBaseLogger } from 'fastify'
import { randomBytes } from 'node:crypto'
import type { Db } from '../db/connect.js'
import { isDuplicateKey } from '../db/errors.js'

export interface RetentionOptions {
  db: Db
  log: FastifyBaseLogger
  /** Events older than this are deleted (messages stay: history reads them). */
  days: number
  /** How often a node looks; the first look comes a minute after start. */
  everyMs?: number
  /** Rows per DELETE: small, so no statement holds locks for long. */
  batchSize?: number
  /** At most this many batches per look; the next look goes on. */
  maxBatches?: number
}

const leaseName = 'event-retention'
const leaseMs = 5 * 60 * 1000
const pauseBetweenBatchesMs = 100

/**
 * Deletes old events in small batches, one node at a time (a lease row in the
 * database, which works on shared hosting and on Galera alike), so the events
 * table of a busy room stops growing without bound. A cursor older than the
 * oldest kept event then gets 409 `cursor_reset` from the poll engine.
 */
export class EventRetention {
  private readonly holder = randomBytes(12).toString('hex')
  private timer: NodeJS.Timeout | null = null
  private running: Promise<unknown> | null = null
  private stopped = false

  constructor (private readonly options: RetentionOptions) {}

  start (): void {
    this.schedule(60000)
  }

  async stop (): Promise<void> {
    this.stopped = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    await this.running?.catch(() => {})
  }

  /** One look: deletes what is due if this node holds the lease; how many events went, or null when another node holds it. */
  async runOnce (now = Date.now()): Promise<number | null> {
    if (!await this.takeLease(now)) return null
    const { db } = this.options
    const cutoff = now - this.options.days * 86400000
    const batchSize = this.options.batchSize ?? 500
    let deleted = 0
    for (let i = 0; i < (this.options.maxBatches ?? 200) && !this.stopped; i++) {
      // Ids grow with time, so the oldest events come first in id order: read
      // a batch by primary key and delete the part that is due.
      const rows = await db.selectFrom('events').select(['id', 'created_at']).orderBy('id').limit(batchSize).execute()
      let last = -1
      for (const r of rows) {
        if (Number(r.created_at) >= cutoff) break
        last = Number(r.id)
      }
      if (last < 0) break
      const first = Number(rows[0]?.id)
      const result = await db.deleteFrom('events').where('id', '>=', first).where('id', '<=', last).executeTakeFirst()
      deleted += Number(result.numDeletedRows)
      if (last !== Number(rows[rows.length - 1]?.id) || rows.length < batchSize) break
      await new Promise(resolve => setTimeout(resolve, pauseBetweenBatchesMs))
    }
    if (deleted > 0) this.options.log.info({ deleted }, 'old events deleted')
    return deleted
  }

  private schedule (ms: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.timer = null
      this.running = this.runOnce()
        .catch(err => { this.options.log.warn({ err }, 'event retention failed; trying again later') })
        .finally(() => { this.running = null; this.schedule(this.options.everyMs ?? 10 * 60 * 1000) })
    }, ms)
    this.timer.unref()
  }

  /** The lease is this node's when free, expired or already its own. */
  private async takeLease (now: number): Promise<boolean> {
    const { db } = this.options
    const taken = await db.updateTable('housekeeping_leases').set({ holder: this.holder, expires_at: now + leaseMs })
      .where('name', '=', leaseName)
      .where(eb => eb.or([eb('expires_at', '<', now), eb('holder', '=', this.holder)]))
      .executeTakeFirst()
    if (Number(taken.numUpdatedRows) > 0) return true
    try {
      await db.insertInto('housekeeping_leases').values({ name: leaseName, holder: this.holder, expires_at: now + leaseMs }).execute()
      return true
    } catch (err) {
      if (isDuplicateKey(err)) return false
      throw err
    }
  }
}
