import { CompiledQuery, type DatabaseConnection, Kysely, type LogEvent, MysqlDialect, SqliteDialect, sql, type Transaction } from 'kysely'
import type { PoolOptions } from 'mysql2'
import { mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { Database } from './schema.js'
import { retryWriteConflicts } from './retry.js'

// Each driver is loaded only when its database is used: mysql2 alone is some
// eighty modules, a good part of a SQLite host's start-up time.
const require = createRequire(import.meta.url)
const mysqlDriver = (): typeof import('mysql2') => require('mysql2') as typeof import('mysql2')
const sqliteDriver = (): typeof import('better-sqlite3') => require('better-sqlite3') as typeof import('better-sqlite3')

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
  /** Calls `listener` with each statement's SQL until the returned function is called (tests that count statements of a kind). */
  watchQueries: (listener: (sql: string) => void) => () => void
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
  const watchers = new Set<(sql: string) => void>()
  const log = (event: LogEvent): void => {
    queries++
    for (const watcher of watchers) watcher(event.query.sql)
  }
  const watchQueries = (listener: (sql: string) => void): () => void => {
    watchers.add(listener)
    return () => { watchers.delete(listener) }
  }
  if (options.databaseUrl !== undefined) {
    const target = parseDatabaseUrl(options.databaseUrl)
    const poolConfig = (host: DatabaseHost): PoolOptions => ({
      host: host.host,
      port: host.port,
      user: target.user,
      password: target.password,
      database: target.database,
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
    const pool = target.hosts.length === 1 ? mysqlDriver().createPool(poolConfig(target.hosts[0] as DatabaseHost)) : clusterPool(target.hosts, poolConfig)
    // READ COMMITTED for the whole session, set once per connection: inTransaction
    // needs it, and a `SET TRANSACTION` before each one would cost a round trip per transaction.
    const onCreateConnection = async (connection: DatabaseConnection): Promise<void> => {
      await connection.executeQuery(CompiledQuery.raw('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED'))
    }
    const db = new Kysely<Database>({ dialect: new MysqlDialect({ pool, onCreateConnection }), log })
    return { db, dialect: 'mysql', queryCount: () => queries, watchQueries, close: async () => { await db.destroy() } }
  }
  mkdirSync(options.dataDir, { recursive: true })
  const SqliteDatabase = sqliteDriver()
  const file = new SqliteDatabase(join(options.dataDir, 'chat.sqlite'))
  // Several processes may share the file (Passenger, `npm run migrate`): wait instead of failing.
  file.pragma('busy_timeout = 5000')
  file.pragma('journal_mode = WAL')
  file.pragma('synchronous = NORMAL')
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: file }), log })
  return { db, dialect: 'sqlite', queryCount: () => queries, watchQueries, close: async () => { await db.destroy() } }
}

export interface DatabaseHost { host: string, port: number }
export interface MysqlTarget { hosts: DatabaseHost[], user: string, password: string, database: string }

/**
 * `mysql://user:pass@host:3306/db`, or with several hosts for a cluster:
 * `mysql://user:pass@h1:3306,h2:3306,h3:3306/db` (each port optional).
 * WHATWG URL cannot hold a host list, so the authority is split here.
 */
export function parseDatabaseUrl (databaseUrl: string): MysqlTarget {
  const match = /^(?:mysql|mariadb):\/\/(?:([^@/]*)@)?([^/?#]+)(?:\/([^?#]*))?/.exec(databaseUrl)
  if (match === null) throw new Error('DATABASE_URL must look like mysql://user:password@host:3306/database')
  const [, auth = '', hostList = '', path = ''] = match
  const colon = auth.indexOf(':')
  const hosts = hostList.split(',').map((entry): DatabaseHost => {
    const hostPort = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry.trim())
    if (hostPort === null) throw new Error(`DATABASE_URL has a bad host: ${entry}`)
    return { host: (hostPort[1] ?? '').replace(/^\[|\]$/g, ''), port: hostPort[2] === undefined ? 3306 : Number(hostPort[2]) }
  })
  return {
    hosts,
    user: decodeURIComponent(colon < 0 ? auth : auth.slice(0, colon)),
    password: colon < 0 ? '' : decodeURIComponent(auth.slice(colon + 1)),
    database: decodeURIComponent(path)
  }
}

/**
 * Several hosts (a Galera cluster): all connections go to the first host that
 * answers; when it stops answering, new connections go to the next one, and a
 * host that failed is tried again after a few seconds. One node takes all
 * writes (no certification conflicts between this process's transactions),
 * and the feed reader, which shares the pool, follows it.
 */
function clusterPool (hosts: DatabaseHost[], poolConfig: (host: DatabaseHost) => PoolOptions): ReturnType<typeof import('mysql2').createPoolCluster> {
  const cluster = mysqlDriver().createPoolCluster({ canRetry: true, removeNodeErrorCount: 1, restoreNodeTimeout: 5000, defaultSelector: 'ORDER' })
  hosts.forEach((host, i) => { cluster.add(`node${i}`, poolConfig(host)) })
  return cluster
}

/**
 * Runs `fn` in a transaction. MySQL connections are READ COMMITTED (set when
 * each connection opens, see connectDatabase) so that reads after the
 * event-counter lock see every transaction that committed before it.
 */
export async function inTransaction<T> (handle: { db: Db, dialect: Dialect }, fn: (trx: Tx) => Promise<T>): Promise<T> {
  // Every write transaction opens here, so this is the one place that retries
  // lost certification races and not-yet-ready Galera nodes (src/db/retry.ts).
  return await retryWriteConflicts(async () => {
    return await handle.db.transaction().execute(fn)
  })
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

/**
 * MySQL only: locks the event counter row like lockEventCounter and advances
 * it by `count` in the same statement (LAST_INSERT_ID(expr) hands the new value
 * back in the answer); returns the new last id. A rollback undoes the advance.
 */
export async function reserveEventIds (trx: Tx, count: number): Promise<number> {
  const result = await trx.executeQuery(CompiledQuery.raw('UPDATE event_seq SET last_id = LAST_INSERT_ID(last_id + ?) WHERE id = 1', [count]))
  if (result.insertId === undefined || Number(result.numAffectedRows ?? 1n) !== 1) throw new Error('event_seq has no row 1')
  return Number(result.insertId)
}

/**
 * A multi-row INSERT written out directly: the statement kysely's builder
 * would compile, without building and visiting a node per value (sends insert
 * a few hundred values per batch). Names come from the schema's types; values
 * are parameters.
 */
export async function insertRows<T extends keyof Database & string> (db: Executor, table: T, columns: ReadonlyArray<keyof Database[T] & string>, rows: unknown[][]): Promise<void> {
  if (rows.length === 0) return
  const tuple = `(${columns.map(() => '?').join(', ')})`
  const text = `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${rows.map(() => tuple).join(', ')}`
  await db.executeQuery(CompiledQuery.raw(text, rows.flat()))
}

export async function pingDatabase (db: Db): Promise<void> {
  await sql`SELECT 1`.execute(db)
}
