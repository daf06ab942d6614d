import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import mysql from 'mysql2/promise'

/** What a test needs to point the app at a database of its own. */
export interface TestDatabase {
  /** `mysql://…` for MariaDB, or undefined for the embedded SQLite default. */
  databaseUrl: string | undefined
  /** A fresh folder for SQLite files and the generated session secret. */
  dataDir: string
}

interface Teardown { teardown (fn: () => unknown): void }

/**
 * Gives the calling test file its own database: a fresh MariaDB database on the
 * server named by TEST_DATABASE_URL (dropped afterwards), else a fresh SQLite
 * folder. tap runs files in parallel, so nothing may be shared between them.
 */
export async function createTestDatabase (t: Teardown): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'chat-test-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const serverUrl = process.env.TEST_DATABASE_URL
  if (serverUrl === undefined || serverUrl === '') return { databaseUrl: undefined, dataDir }

  const name = `chat_test_${randomBytes(6).toString('hex')}`
  const admin = await mysql.createConnection(serverUrl)
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
  await admin.end()
  t.teardown(async () => {
    const conn = await mysql.createConnection(serverUrl)
    await conn.query(`DROP DATABASE IF EXISTS \`${name}\``)
    await conn.end()
  })
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return { databaseUrl: url.toString(), dataDir }
}

export const usingMariaDb = (): boolean => (process.env.TEST_DATABASE_URL ?? '') !== ''
