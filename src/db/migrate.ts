import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { sql, type Kysely } from 'kysely'
import type { Database } from './schema.js'
import type { Dialect } from './connect.js'

/** sql/ sits two levels above both src/db and dist/db. */
const sqlRoot = fileURLToPath(new URL('../../sql/', import.meta.url))

export interface Migration { name: string, statements: string[] }

/** The numbered files of one dialect, in order: `001_init.sql` is migration `001_init`. */
export function loadMigrations (dialect: Dialect): Migration[] {
  const dir = `${sqlRoot}${dialect}/`
  return readdirSync(dir)
    .filter(f => /^\d+_[\w-]+\.sql$/.test(f))
    .sort()
    .map(f => ({ name: f.replace(/\.sql$/, ''), statements: splitStatements(readFileSync(dir + f, 'utf8')) }))
}

/** The files hold plain statements (no procedures), so a `;` at a line's end ends one. */
export function splitStatements (text: string): string[] {
  const withoutComments = text.split('\n').filter(line => !/^\s*--/.test(line)).join('\n')
  return withoutComments.split(/;\s*(?:\n|$)/).map(s => s.trim()).filter(s => s !== '')
}

/**
 * Applies the migrations not yet recorded in schema_migrations, each once, in
 * order. Safe when several processes start together: MySQL serialises them with
 * a named lock (no SUPER needed), SQLite with its write lock.
 */
export async function migrate (db: Kysely<Database>, dialect: Dialect, log: (msg: string) => void = () => {}): Promise<string[]> {
  const migrations = loadMigrations(dialect)
  return await db.connection().execute(async (conn) => {
    if (dialect === 'mysql') {
      // Named locks are server-wide: name it after the database, so that apps on
      // other databases of the same server (shared hosting, tests) never wait.
      const got = await sql<{ ok: number | null }>`SELECT GET_LOCK(CONCAT('longpoll_chat_migrate_', MD5(DATABASE())), 60) AS ok`.execute(conn)
      if (Number(got.rows[0]?.ok) !== 1) throw new Error('could not take the migration lock within 60 s')
    }
    try {
      await sql.raw(dialect === 'mysql'
        ? 'CREATE TABLE IF NOT EXISTS schema_migrations (name VARCHAR(100) NOT NULL, applied_at BIGINT NOT NULL, PRIMARY KEY (name)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci'
        : 'CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL)').execute(conn)
      const applied = new Set((await conn.selectFrom('schema_migrations').select('name').execute()).map(r => r.name))
      const done: string[] = []
      for (const migration of migrations) {
        if (applied.has(migration.name)) continue
        // SQLite runs DDL in transactions; MySQL commits each DDL statement itself.
        if (dialect === 'sqlite') {
          await sql.raw('BEGIN IMMEDIATE').execute(conn)
          // Another process may have applied it while this one waited for the lock.
          const already = await conn.selectFrom('schema_migrations').select('name').where('name', '=', migration.name).executeTakeFirst()
          if (already !== undefined) { await sql.raw('COMMIT').execute(conn); continue }
        }
        log(`applying migration ${migration.name}`)
        try {
          for (const statement of migration.statements) await sql.raw(statement).execute(conn)
          // The file records itself (so a hand import counts); make sure all the same.
          const recorded = await conn.selectFrom('schema_migrations').select('name').where('name', '=', migration.name).executeTakeFirst()
          if (recorded === undefined) {
            await conn.insertInto('schema_migrations').values({ name: migration.name, applied_at: Date.now() }).execute()
          }
          if (dialect === 'sqlite') await sql.raw('COMMIT').execute(conn)
        } catch (err) {
          if (dialect === 'sqlite') await sql.raw('ROLLBACK').execute(conn)
          throw new Error(`migration ${migration.name} failed: ${(err as Error).message}`)
        }
        done.push(migration.name)
      }
      return done
    } finally {
      if (dialect === 'mysql') await sql`SELECT RELEASE_LOCK(CONCAT('longpoll_chat_migrate_', MD5(DATABASE())))`.execute(conn)
    }
  })
}
