import t from 'tap'
import { readFileSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { sql } from 'kysely'
import { connectDatabase } from '../../src/db/connect.js'
import { loadMigrations, migrate, splitStatements } from '../../src/db/migrate.js'
import { createTestDatabase } from '../helpers/database.js'
import { as, buildTestApp, register } from '../helper.js'

t.test('migrations apply once, in order, and record themselves', async t => {
  const database = await createTestDatabase(t)
  const handle = connectDatabase({ databaseUrl: database.databaseUrl, dataDir: database.dataDir, poolSize: 2, queueLimit: 10 })
  t.teardown(async () => { await handle.close() })
  const all = loadMigrations(handle.dialect).map(m => m.name)
  t.ok(all.length > 0)
  t.same(await migrate(handle.db, handle.dialect), all)
  t.same(await migrate(handle.db, handle.dialect), [], 'a second run does nothing')
  const rows = await handle.db.selectFrom('schema_migrations').select('name').orderBy('name').execute()
  t.same(rows.map(r => r.name), all)
})

t.test('two processes migrating at once apply each file once', async t => {
  const database = await createTestDatabase(t)
  const run = async (): Promise<{ code: number | null, out: string }> => await new Promise(resolve => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/migrate.ts'], {
      env: { ...process.env, DATA_DIR: database.dataDir, ...(database.databaseUrl === undefined ? {} : { DATABASE_URL: database.databaseUrl }) }
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { out += d.toString() })
    child.on('exit', code => resolve({ code, out }))
  })
  const results = await Promise.all([run(), run()])
  t.same(results.map(r => r.code), [0, 0], results.map(r => r.out).join('\n'))
  const applied = results.map(r => (r.out.match(/applying migration/g) ?? []).length)
  t.equal(applied[0]! + applied[1]!, loadMigrations(database.databaseUrl === undefined ? 'sqlite' : 'mysql').length)
})

t.test('schema files imported by hand (as phpMyAdmin does), then the server starts on them', async t => {
  const database = await createTestDatabase(t)
  const handle = connectDatabase({ databaseUrl: database.databaseUrl, dataDir: database.dataDir, poolSize: 1, queueLimit: 10 })
  const dir = new URL(`../../sql/${handle.dialect}/`, import.meta.url)
  for (const m of loadMigrations(handle.dialect)) {
    // Run the file's text statement by statement, as an import tool would.
    for (const statement of splitStatements(readFileSync(new URL(`${m.name}.sql`, dir), 'utf8'))) await sql.raw(statement).execute(handle.db)
  }
  await handle.close()
  const app = await buildTestApp(t, {}, database)
  const alice = await register(app, 'alice')
  t.equal((await as(app, alice, 'POST', '/api/rooms', { name: 'imported' })).statusCode, 201)
})
