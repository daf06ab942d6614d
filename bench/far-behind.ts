/**
 * Far-behind reads on a big events table: fills a fresh database with
 * 1,000,000 events (default) in one busy room, then measures polls from
 * `cursor=1&timeout=0`:
 *   - a member of a quiet room only, from its last event (nothing visible in the
 *     million after it): the first answer and the following ones in a loop (the
 *     quiet result is remembered);
 *   - a member of the busy room (the first page, read through the room index).
 * Prints milliseconds and SQL statements per answer.
 *
 *   npx tsx bench/far-behind.ts [--events 1000000] [--mysql]
 * (--mysql: on BENCH_DATABASE_URL, default mysql://root@127.0.0.1:3306; default: SQLite)
 */
import { parseArgs } from 'node:util'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import mysql from 'mysql2/promise'
import SqliteDatabase from 'better-sqlite3'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'

const { values: flags } = parseArgs({ options: { events: { type: 'string' }, mysql: { type: 'boolean' } } })
const total = Number(flags.events ?? 1000000)
const dataDir = mkdtempSync(join(tmpdir(), 'far-behind-'))
const serverUrl = process.env.BENCH_DATABASE_URL ?? 'mysql://root@127.0.0.1:3306'
const dbName = `chat_far_${randomBytes(4).toString('hex')}`
const databaseUrl = flags.mysql === true ? `${serverUrl.replace(/\/$/, '')}/${dbName}` : undefined

const config = loadConfig({
  DATA_DIR: dataDir,
  ...(databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl }),
  SESSION_SECRET: 'far-behind-bench-secret-at-least-32-characters',
  LOG_LEVEL: 'warn',
  RATE_LIMIT_DISABLED: 'true'
}, false)

async function main (): Promise<void> {
  if (databaseUrl !== undefined) {
    const admin = await mysql.createConnection(serverUrl)
    await admin.query(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
    await admin.end()
  }
  let app = await buildApp(config)
  const register = async (username: string): Promise<string> => {
    const res = await app.inject({ method: 'POST', url: '/api/register', payload: { username, password: 'password-for-bench' } })
    const cookie = String(res.headers['set-cookie']).split(';')[0] as string
    const token = await app.inject({ method: 'POST', url: '/api/tokens', headers: { cookie }, payload: { name: 'bench' } })
    return token.json().token
  }
  const busy = await register('busy')
  const quiet = await register('quiet')
  const call = async (token: string, method: 'GET' | 'POST', url: string, payload?: object): Promise<any> =>
    (await app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) })).json()
  const busyRoom = (await call(busy, 'POST', '/api/rooms', { name: 'busy' })).room.id
  await call(quiet, 'POST', '/api/rooms', { name: 'quiet' })
  const quietCursor = (await call(quiet, 'POST', '/api/rooms/quiet/messages', { text: 'the only one' })).event.id as string
  await app.close()

  const started = Date.now()
  const head = await fill(Number(busyRoom))
  console.log(`filled ${total.toLocaleString('en')} events in ${((Date.now() - started) / 1000).toFixed(1)} s (${databaseUrl === undefined ? 'SQLite' : 'MariaDB'}), head ${head}`)

  app = await buildApp(config)
  const { database } = app
  const measure = async (label: string, token: string, url: string, times: number): Promise<void> => {
    const ms: number[] = []
    const queries: number[] = []
    let events = 0
    for (let i = 0; i < times; i++) {
      const q0 = database.queryCount()
      const t0 = process.hrtime.bigint()
      const body = await call(token, 'GET', url)
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6)
      queries.push(database.queryCount() - q0)
      events = body.events.length
    }
    const first = ms[0] as number
    const rest = ms.slice(1).sort((a, b) => a - b)
    console.log(`${label}: first ${first.toFixed(1)} ms (${queries[0] as number} SQL)` +
      (rest.length > 0 ? `; then median ${(rest[Math.floor(rest.length / 2)] as number).toFixed(2)} ms, max ${(rest[rest.length - 1] as number).toFixed(1)} ms, ${(queries.slice(1).reduce((a, b) => a + b, 0) / rest.length).toFixed(2)} SQL per answer` : '') +
      `; ${events} events in the last answer`)
  }
  // Warm up the process (route compilation, credentials) so the first figures are the database's.
  await call(busy, 'GET', '/api/poll')
  await call(quiet, 'GET', '/api/poll')
  await measure(`quiet member, cursor=${quietCursor}&timeout=0 (a million invisible events after it), 200 times`, quiet, `/api/poll?cursor=${quietCursor}&timeout=0`, 200)
  await measure('busy member, cursor=1&timeout=0&limit=100 (first page)', busy, '/api/poll?cursor=1&timeout=0&limit=100', 20)
  await app.close()
}

/** Appends `total` message events to the busy room, straight into the table. */
async function fill (roomId: number): Promise<number> {
  const now = Date.now()
  if (databaseUrl === undefined) {
    const db = new SqliteDatabase(join(dataDir, 'chat.sqlite'))
    const last = Number((db.prepare('SELECT last_id FROM event_seq WHERE id = 1').get() as { last_id: number }).last_id)
    const insert = db.prepare('INSERT INTO events (id, room_id, user_id, target_user_id, type, body, created_at) VALUES (?, ?, 1, NULL, \'message\', ?, ?)')
    db.transaction(() => {
      for (let i = 1; i <= total; i++) insert.run(last + i, roomId, `{"text":"m${i}","clientId":null}`, now)
      db.prepare('UPDATE event_seq SET last_id = ? WHERE id = 1').run(last + total)
    })()
    db.close()
    return last + total
  }
  const conn = await mysql.createConnection(databaseUrl)
  const [rows] = await conn.query('SELECT last_id FROM event_seq WHERE id = 1') as unknown as [Array<{ last_id: string }>]
  const last = Number(rows[0]?.last_id)
  for (let from = 1; from <= total; from += 5000) {
    const values: unknown[][] = []
    for (let i = from; i < Math.min(from + 5000, total + 1); i++) values.push([last + i, roomId, 1, null, 'message', `{"text":"m${i}","clientId":null}`, now])
    await conn.query('INSERT INTO events (id, room_id, user_id, target_user_id, type, body, created_at) VALUES ?', [values])
  }
  await conn.query('UPDATE event_seq SET last_id = ? WHERE id = 1', [last + total])
  await conn.end()
  return last + total
}

try {
  await main()
} finally {
  rmSync(dataDir, { recursive: true, force: true })
  if (databaseUrl !== undefined) {
    const admin = await mysql.createConnection(serverUrl)
    await admin.query(`DROP DATABASE IF EXISTS \`${dbName}\``)
    await admin.end()
  }
}
