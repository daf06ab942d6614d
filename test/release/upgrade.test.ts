import t from 'tap'
import { readFileSync } from 'node:fs'
import { sql } from 'kysely'
import { connectDatabase } from '../../src/db/connect.js'
import { loadMigrations, splitStatements } from '../../src/db/migrate.js'
import { PasswordHasher } from '../../src/auth/passwords.js'
import { createTestDatabase } from '../helpers/database.js'
import { buildTestApp } from '../helper.js'

// Upgrading keeps the data: a database as release 0.1.0 left it (its schema
// was migration 001 alone, filled the way that release wrote rows) is opened
// by this version, which applies every later migration once and serves the
// old accounts, rooms and messages as before.
const previousReleaseSchema = ['001_init']

t.test('a database made by the previous release is upgraded in place, data kept', async t => {
  const database = await createTestDatabase(t)
  const handle = connectDatabase({ databaseUrl: database.databaseUrl, dataDir: database.dataDir, poolSize: 1, queueLimit: 10 })
  const dir = new URL(`../../sql/${handle.dialect}/`, import.meta.url)
  for (const name of previousReleaseSchema) {
    for (const statement of splitStatements(readFileSync(new URL(`${name}.sql`, dir), 'utf8'))) await sql.raw(statement).execute(handle.db)
  }
  const now = Date.now()
  const hash = await new PasswordHasher(1).hash('an old password')
  const user = { id: '1', username: 'oldtimer', displayName: 'Old Timer' }
  const event = (id: number, type: string, body: unknown): string =>
    `INSERT INTO events (id, room_id, user_id, target_user_id, type, body, created_at) VALUES (${id}, 1, 1, NULL, '${type}', ${body === null ? 'NULL' : `'${JSON.stringify(body)}'`}, ${now})`
  for (const statement of [
    `INSERT INTO users (id, username, display_name, password_hash, is_admin, session_version, created_at) VALUES (1, 'oldtimer', 'Old Timer', '${hash}', 1, 0, ${now})`,
    `INSERT INTO rooms (id, name, kind, visibility, direct_key, created_by, created_at) VALUES (1, 'legacy', 'channel', 'public', NULL, 1, ${now})`,
    `INSERT INTO memberships (room_id, user_id, role, joined_at, last_read_event_id) VALUES (1, 1, 'owner', ${now}, 0)`,
    event(1, 'room.created', { room: { id: '1', name: 'legacy', kind: 'channel', visibility: 'public' } }),
    event(2, 'member.joined', null),
    event(3, 'message', { text: 'written by 0.1.0', clientId: 'c-1' }),
    `INSERT INTO messages (id, room_id, user_id, text, client_id, created_at) VALUES (3, 1, 1, 'written by 0.1.0', 'c-1', ${now})`,
    'UPDATE event_seq SET last_id = 3 WHERE id = 1'
  ]) await sql.raw(statement).execute(handle.db)
  await handle.close()

  const app = await buildTestApp(t, {}, database)
  const login = await app.inject({ method: 'POST', url: '/api/login', payload: { username: 'oldtimer', password: 'an old password' } })
  t.equal(login.statusCode, 200, `the old account signs in: ${login.body}`)
  const cookie = String(login.headers['set-cookie']).split(';')[0] ?? ''
  const history = await app.inject({ method: 'GET', url: '/api/rooms/legacy/messages', headers: { cookie } })
  t.equal(history.statusCode, 200, history.body)
  t.same(history.json().events.map((e: { text: string, user: unknown }) => [e.text, e.user]), [['written by 0.1.0', user]])

  const repeat = await app.inject({ method: 'POST', url: '/api/rooms/legacy/messages', headers: { cookie, origin: 'http://localhost' }, payload: { text: 'retry', clientId: 'c-1' } })
  t.ok(repeat.statusCode === 200 || repeat.statusCode === 201, repeat.body)
  t.equal(repeat.json().event.id, '3', 'a clientId stored by the old release still keeps a retried send single')
  const fresh = await app.inject({ method: 'POST', url: '/api/rooms/legacy/messages', headers: { cookie, origin: 'http://localhost' }, payload: { text: 'written after the upgrade' } })
  t.equal(fresh.statusCode, 201, fresh.body)
  t.ok(Number(fresh.json().event.id) > 3, 'new events continue after the old ones')

  const check = connectDatabase({ databaseUrl: database.databaseUrl, dataDir: database.dataDir, poolSize: 1, queueLimit: 10 })
  t.teardown(async () => { await check.close() })
  const applied = (await check.db.selectFrom('schema_migrations').select('name').orderBy('name').execute()).map(r => r.name)
  t.same(applied, loadMigrations(check.dialect).map(m => m.name), 'every later migration is applied, each once')
})
