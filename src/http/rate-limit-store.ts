import { createHash } from 'node:crypto'
import { sql } from 'kysely'
import type { Db, Dialect } from '../db/connect.js'

export interface Hit { current: number, ttl: number }

/**
 * The bucket column is ASCII and 191 long: a key naming a user or address
 * (`login:élodie`) is kept readable when it fits, else stored as its hash, so
 * any sign-in name works and two long keys can never share a bucket.
 */
export function bucketOf (key: string): string {
  if (/^[\x20-\x7e]{1,120}$/.test(key)) return key
  const colon = key.indexOf(':')
  const kind = colon > 0 && colon < 40 && /^[\x21-\x7e]+$/.test(key.slice(0, colon)) ? key.slice(0, colon) : 'key'
  return `${kind}:sha256:${createHash('sha256').update(key).digest('hex')}`
}

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
    const bucket = bucketOf(key)
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

  /**
   * Records one failure on `key`; the count is forgotten `forgetMs` after the
   * latest one. Returns the count.
   */
  async fail (key: string, forgetMs: number): Promise<number> {
    const { db } = this
    const bucket = bucketOf(key)
    const now = Date.now()
    const insert = db.insertInto('rate_limits').values({ bucket, hits: 1, reset_at: now + forgetMs })
    const fresh = sql<number>`${now + forgetMs}`
    if (this.dialect === 'mysql') {
      await insert.onDuplicateKeyUpdate({ hits: sql<number>`IF(reset_at <= ${now}, 1, hits + 1)`, reset_at: fresh }).execute()
    } else {
      await insert.onConflict(oc => oc.column('bucket').doUpdateSet({ hits: sql<number>`CASE WHEN reset_at <= ${now} THEN 1 ELSE hits + 1 END`, reset_at: fresh })).execute()
    }
    return (await this.peek(key))?.hits ?? 1
  }

  /** The live count on `key` and when it lapses, without counting. */
  async peek (key: string): Promise<{ hits: number, resetAt: number } | undefined> {
    const row = await this.db.selectFrom('rate_limits').select(['hits', 'reset_at']).where('bucket', '=', bucketOf(key)).executeTakeFirst()
    if (row === undefined || Number(row.reset_at) <= Date.now()) return undefined
    return { hits: Number(row.hits), resetAt: Number(row.reset_at) }
  }

  async clear (key: string): Promise<void> {
    await this.db.deleteFrom('rate_limits').where('bucket', '=', bucketOf(key)).execute()
  }
}
