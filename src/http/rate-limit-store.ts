import { sql } from 'kysely'
import type { Db, Dialect } from '../db/connect.js'

export interface Hit { current: number, ttl: number }

/**
 * A rate-limit counter kept in the database, for limits that must hold across
 * every process and node (password guessing). Each hit is one upsert and one
 * read; that is fine for sign-ins, not for hot paths.
 */
export class DatabaseRateLimitStore {
  private lastPrune = 0

  constructor (private readonly db: Db, private readonly dialect: Dialect) {}

  /** Counts one hit on `key` in a fixed window of `timeWindow` ms. */
  async hit (key: string, timeWindow: number): Promise<Hit> {
    const { db } = this
    const bucket = key.slice(0, 191)
    const now = Date.now()
    const resetAt = now + timeWindow
    const insert = db.insertInto('rate_limits').values({ bucket, hits: 1, reset_at: resetAt })
    if (this.dialect === 'mysql') {
      await insert.onDuplicateKeyUpdate({
        hits: sql<number>`IF(reset_at <= ${now}, 1, hits + 1)`,
        reset_at: sql<number>`IF(reset_at <= ${now}, ${resetAt}, reset_at)`
      }).execute()
    } else {
      await insert.onConflict(oc => oc.column('bucket').doUpdateSet({
        hits: sql<number>`CASE WHEN reset_at <= ${now} THEN 1 ELSE hits + 1 END`,
        reset_at: sql<number>`CASE WHEN reset_at <= ${now} THEN ${resetAt} ELSE reset_at END`
      })).execute()
    }
    const row = await db.selectFrom('rate_limits').select(['hits', 'reset_at']).where('bucket', '=', bucket).executeTakeFirstOrThrow()
    if (now - this.lastPrune > 60000) {
      this.lastPrune = now
      await db.deleteFrom('rate_limits').where('reset_at', '<', now).execute()
    }
    return { current: Number(row.hits), ttl: Math.max(0, Number(row.reset_at) - now) }
  }
}
