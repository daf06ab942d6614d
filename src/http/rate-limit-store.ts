import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import { sql } from 'kysely'
import type { Db, Dialect } from '../db/connect.js'

/**
 * A @fastify/rate-limit store kept in the database, for limits that must hold
 * across every process and node (password guessing). Each hit is one upsert and
 * one read; that is fine for sign-ins, not for hot paths.
 */
export function databaseRateLimitStore (db: Db, dialect: Dialect): FastifyRateLimitStoreCtor {
  let lastPrune = 0
  class DatabaseStore implements FastifyRateLimitStore {
    constructor (private readonly prefix = '') {}

    incr (key: string, callback: (error: Error | null, result?: { current: number, ttl: number }) => void, timeWindow: number): void {
      const bucket = (this.prefix + key).slice(0, 191)
      const now = Date.now()
      const resetAt = now + timeWindow
      const hit = async (): Promise<{ current: number, ttl: number }> => {
        const insert = db.insertInto('rate_limits').values({ bucket, hits: 1, reset_at: resetAt })
        if (dialect === 'mysql') {
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
        if (now - lastPrune > 60000) {
          lastPrune = now
          await db.deleteFrom('rate_limits').where('reset_at', '<', now).execute()
        }
        return { current: Number(row.hits), ttl: Math.max(0, Number(row.reset_at) - now) }
      }
      hit().then(result => callback(null, result), (err: Error) => callback(err))
    }

    child (routeOptions: { path: string, method: string | string[] }): FastifyRateLimitStore {
      return new DatabaseStore(`${String(routeOptions.method)}${routeOptions.path}:`)
    }
  }
  return DatabaseStore as unknown as FastifyRateLimitStoreCtor
}
