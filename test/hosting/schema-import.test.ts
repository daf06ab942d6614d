import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import { createTestDatabase, usingMariaDb } from '../helpers/database.js'
import { startServerProcess } from '../helpers/server-process.js'
import { projectRoot, request, SESSION_SECRET } from './harness.js'

// DEPLOY.md tells people without a shell to import sql/mysql/*.sql by hand in
// phpMyAdmin, in order, and then start the app. phpMyAdmin runs each file's
// statements one after another on one connection; so does this test.

t.test('schema imported by hand, then the server starts on it', {
  skip: usingMariaDb() ? false : 'needs TEST_DATABASE_URL (MySQL or MariaDB)'
}, async t => {
  const db = await createTestDatabase(t)
  const files = readdirSync(join(projectRoot, 'sql/mysql')).filter(f => /^\d+_[\w-]+\.sql$/.test(f)).sort()
  t.ok(files.length > 0)
  const conn = await mysql.createConnection({ uri: db.databaseUrl, multipleStatements: true })
  for (const file of files) await conn.query(readFileSync(join(projectRoot, 'sql/mysql', file), 'utf8'))

  const app = await startServerProcess(t, { DATABASE_URL: db.databaseUrl, DATA_DIR: db.dataDir, SESSION_SECRET })
  const registered = await request(`${app.url}/api/register`, { body: { username: 'importer', password: 'phpmyadmin did it' } })
  t.equal(registered.status, 201, registered.text)

  const [rows] = await conn.query('SELECT name FROM schema_migrations ORDER BY name')
  t.same((rows as Array<{ name: string }>).map(r => r.name), files.map(f => f.replace(/\.sql$/, '')),
    'each file recorded once: the server applied nothing twice')
  await conn.end()
})
