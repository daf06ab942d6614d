import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { Presence } from '../../src/poll/presence.js'
import type { Db } from '../../src/db/connect.js'
import { createTestDatabase } from '../helpers/database.js'
import { twoApps } from '../helpers/two-nodes.js'
import { as, buildTestApp, register, type Session } from '../helper.js'

// Presence "away" (issue 15): the client's poll says away=1; other members see
// it in the member list, on this node at once and on another after a flush.

interface Member { username: string, online: boolean, away: boolean }

async function memberOf (app: FastifyInstance, viewer: Session, room: string, username: string): Promise<Member | undefined> {
  const res = await as(app, viewer, 'GET', `/api/rooms/${room}/members`)
  if (res.statusCode !== 200) throw new Error(`members ${res.statusCode} ${res.body}`)
  return (res.json().members as Member[]).find(m => m.username === username)
}

t.test('away: set by one user\'s poll, seen by another, cleared by a poll without it', async t => {
  const app = await buildTestApp(t)
  const [alice, bob] = [await register(app, 'alice'), await register(app, 'bob')]
  t.equal((await as(app, alice, 'POST', '/api/rooms', { name: 'lobby' })).statusCode, 201)
  t.equal((await as(app, bob, 'POST', '/api/rooms/lobby/join')).statusCode, 200)

  t.equal((await as(app, alice, 'GET', '/api/poll?timeout=0&away=1')).statusCode, 200)
  t.match(await memberOf(app, bob, 'lobby', 'alice'), { online: true, away: true })
  t.equal((await as(app, alice, 'GET', '/api/poll?timeout=0')).statusCode, 200)
  t.match(await memberOf(app, bob, 'lobby', 'alice'), { online: true, away: false }, 'no flag: back')
  await as(app, alice, 'GET', '/api/poll?timeout=0&away=1')
  t.equal((await as(app, alice, 'GET', '/api/poll?timeout=0&away=0')).statusCode, 200)
  t.match(await memberOf(app, bob, 'lobby', 'alice'), { away: false }, 'away=0: back')
  t.match(await memberOf(app, alice, 'lobby', 'bob'), { online: false, away: false }, 'never polled: neither')
})

t.test('away takes only 0 or 1 (no coercion)', async t => {
  const app = await buildTestApp(t)
  const alice = await register(app, 'alice')
  for (const bad of ['true', '2', '', 'yes']) {
    const res = await as(app, alice, 'GET', `/api/poll?timeout=0&away=${bad}`)
    t.equal(res.statusCode, 400, `away=${bad}`)
    t.equal(res.json().error.code, 'invalid')
  }
})

t.test('away crosses nodes through the database', async t => {
  const database = await createTestDatabase(t)
  const { apps } = await twoApps(t, database)
  const [one, two] = apps as [FastifyInstance, FastifyInstance]
  const [alice, bob] = [await register(one, 'alice'), await register(one, 'bob')]
  t.equal((await as(one, alice, 'POST', '/api/rooms', { name: 'lobby' })).statusCode, 201)
  t.equal((await as(one, bob, 'POST', '/api/rooms/lobby/join')).statusCode, 200)

  t.equal((await as(one, alice, 'GET', '/api/poll?timeout=0&away=1')).statusCode, 200)
  // The batched write every node makes on its own schedule, made now rather than waited for.
  await one.presence.flush()
  t.match(await memberOf(two, bob, 'lobby', 'alice'), { online: true, away: true }, 'the other node reads it')
  await as(one, alice, 'GET', '/api/poll?timeout=0')
  await one.presence.flush()
  t.match(await memberOf(two, bob, 'lobby', 'alice'), { online: true, away: false }, 'and that she is back')
})

t.test('away counts only while online; this node\'s latest poll wins over the stored word', async t => {
  const presence = new Presence(null as unknown as Db, null as never, () => false)
  const now = 1_000_000
  t.equal(presence.isAway(1, now - 120_000, true, now), false, 'seen two minutes ago: offline, not away')
  t.equal(presence.isAway(1, now - 5_000, true, now), true, 'stored word while online')
  presence.touch(1, false)
  t.equal(presence.isAway(1, now - 5_000, true, now), false, 'a poll here since then says back')
  presence.touch(2, true)
  t.equal(presence.isAway(2, null, false, now), true)
})

t.test('only news hurries the presence write: users who keep polling as they were wait for the regular flush', async t => {
  const app = await buildTestApp(t)
  const alice = await register(app, 'alice')
  const db = app.database.db
  const lastSeen = async (): Promise<unknown> => (await db.selectFrom('users').select(['last_seen_at', 'away']).where('username', '=', 'alice').executeTakeFirstOrThrow())
  const until = async (what: string, check: (row: any) => boolean): Promise<void> => {
    for (let i = 0; i < 200 && !check(await lastSeen()); i++) await new Promise(resolve => setTimeout(resolve, 50))
    t.ok(check(await lastSeen()), what)
  }
  await as(app, alice, 'GET', '/api/poll?timeout=0')
  await until('a newcomer is written within seconds', row => row.last_seen_at !== null)
  await db.updateTable('users').set({ last_seen_at: null }).where('username', '=', 'alice').execute()
  await as(app, alice, 'GET', '/api/poll?timeout=0')
  await new Promise(resolve => setTimeout(resolve, 2500))
  t.match(await lastSeen(), { last_seen_at: null }, 'the same user polling as before: no write until the regular flush')
  await as(app, alice, 'GET', '/api/poll?timeout=0&away=1')
  await until('going away is news: written within seconds', row => Number(row.away) === 1)
})

t.test('GET /api/me says whether the caller administers the site', async t => {
  const app = await buildTestApp(t)
  const [admin, bob] = [await register(app, 'admin'), await register(app, 'bob')]
  t.match((await as(app, admin, 'GET', '/api/me')).json(), { user: { username: 'admin' }, admin: true }, 'the first account')
  t.match((await as(app, bob, 'GET', '/api/me')).json(), { user: { username: 'bob' }, admin: false })
})
