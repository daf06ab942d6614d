import { Kysely, MysqlDialect, SqliteDialect, sql, type Transaction } from 'kysely'
import { createPool } from 'mysql2'
import SqliteDatabase from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Database } from './schema.js'

export type Dialect = 'mysql' | 'sqlite'
export type Db = Kysely<Database>
export type Tx = Transaction<Database>
/** Either the database or a transaction: repositories take this, so one function serves both. */
export type Executor = Kysely<Database>

export interface DatabaseHandle {
  db: Db
  dialect: Dialect
  /** Running total of SQL statements sent, for the benchmark's queries-per-second. */
  queryCount: () => number
  close: () => Promise<void>
}

export interface ConnectOptions {
  databaseUrl: string | undefined
  dataDir: string
  poolSize: number
  queueLimit: number
}

export function connectDatabase (options: ConnectOptions): DatabaseHandle {
  let queries = 0
  const log = (): void => { queries++ }
  if (options.databaseUrl !== undefined) {
    const url = new URL(options.databaseUrl.replace(/^mariadb:/, 'mysql:'))
    const pool = createPool({
      host: url.hostname,
      port: url.port === '' ? 3306 : Number(url.port),
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      database: decodeURIComponent(url.pathname.replace(/^\//, '')),
      charset: 'utf8mb4_unicode_ci',
      // Shared hosts allow 10-30 connections per user and Passenger may run
      // several processes: keep the pool small and the wait queue bounded.
      connectionLimit: options.poolSize,
      maxIdle: options.poolSize,
      queueLimit: options.queueLimit,
      waitForConnections: true,
      enableKeepAlive: true,
      keepAliveInitialDelay: 10000,
      connectTimeout: 3000,
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true
    })
    const db = new Kysely<Database>({ dialect: new MysqlDialect({ pool }), log })
    return { db, dialect: 'mysql', queryCount: () => queries, close: async () => { await db.destroy() } }
  }
  mkdirSync(options.dataDir, { recursive: true })
  const file = new SqliteDatabase(join(options.dataDir, 'chat.sqlite'))
  // Several processes may share the file (Passenger, `npm run migrate`): wait instead of failing.
  file.pragma('busy_timeout = 5000')
  file.pragma('journal_mode = WAL')
  file.pragma('synchronous = NORMAL')
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: file }), log })
  return { db, dialect: 'sqlite', queryCount: () => queries, close: async () => { await db.destroy() } }
}

/**
 * Runs `fn` in a transaction. MySQL uses READ COMMITTED so that reads after the
 * event-counter lock see every transaction that committed before it.
 */
export async function inTransaction<T> (handle: { db: Db, dialect: Dialect }, fn: (trx: Tx) => Promise<T>): Promise<T> {
  const builder = handle.dialect === 'mysql'
    ? handle.db.transaction().setIsolationLevel('read committed')
    : handle.db.transaction()
  return await builder.execute(fn)
}

/**
 * Locks the event counter row until the transaction ends and returns the last
 * id handed out. Every event-writing transaction starts here, so they run one
 * at a time across all processes and nodes, and commit in id order.
 */
export async function lockEventCounter (trx: Tx, dialect: Dialect): Promise<number> {
  if (dialect === 'mysql') {
    const row = await trx.selectFrom('event_seq').select('last_id').where('id', '=', 1).forUpdate().executeTakeFirstOrThrow()
    return Number(row.last_id)
  }
  // SQLite has no row locks: the first write takes the database's write lock.
  await trx.updateTable('event_seq').set({ last_id: sql<number>`last_id` }).where('id', '=', 1).execute()
  const row = await trx.selectFrom('event_seq').select('last_id').where('id', '=', 1).executeTakeFirstOrThrow()
  return Number(row.last_id)
}

export async function pingDatabase (db: Db): Promise<void> {
  await sql`SELECT 1`.execute(db)
}
