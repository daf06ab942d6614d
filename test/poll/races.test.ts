import t from 'tap'
import SqliteDatabase from 'better-sqlite3'
import { join } from 'node:path'
import { buildApp } from '../../src/app.js'
import { LoadOnceCache } from '../../src/auth/load-once-cache.js'
import { ClientDeparture } from '../../src/poll/engine.js'
import { createTestDatabase, usingMariaDb } from '../helpers/database.js'
import { as, buildTestApp, register, testConfig } from '../helper.js'

/*
 * Races found by reading the engine, each pinned by a test that failed before
 * its fix.
 */

const until = async (check: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached')
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

t.test('a held poll whose window moves past its cursor in one batch reads the skipped events from the database', async t => {
  const database = await createTestDatabase(t)
  // Node A reads only when its own writes wake it; node B writes a burst meanwhile.
  const a = await buildApp(testConfig(database, { FEED_INTERVAL_MS: '60000', FEED_WINDOW: '100' }))
  t.teardown(async () => { await a.close() })
  const b = await buildApp(testConfig(database))
  t.teardown(async () => { await b.close() })
  const alice = await register(b, 'alice')
  const bob = await register(b, 'bob')
  await as(b, alice, 'POST', '/api/rooms', { name: 'burst' })
  await as(b, bob, 'POST', '/api/rooms/burst/join')
  const cursor = (await as(b, bob, 'GET', '/api/poll')).json().cursor as string
  await a.feed.waitForHead(Number(cursor), 5000)

  const held = as(a, bob, 'GET', `/api/poll?cursor=${cursor}&timeout=20&limit=5`)
  await until(() => a.engine.held === 1)
  // A tick with the poll held: A's next timer is a minute away (an idle reader looks every second).
  await as(a, alice, 'POST', '/api/rooms', { name: 'elsewhere' })
  await until(() => !a.feed.busy)
  const sent: string[] = []
  for (let i = 0; i < 250; i += 50) {
    const batch = await Promise.all(Array.from({ length: 50 }, async (_, j) =>
      (await as(b, alice, 'POST', '/api/rooms/burst/messages', { text: `b${i + j}` })).json().event))
    sent.push(...batch.sort((x, y) => Number(x.id) - Number(y.id)).map(e => e.text as string))
  }
  // One write on A wakes its reader: it takes all 251 events in one batch, more than its window.
  await as(a, alice, 'POST', '/api/rooms/burst/messages', { text: 'wake' })
  const body = (await held).json()
  t.same(body.events.map((e: { text: string }) => e.text), sent.slice(0, 5), 'the first events after the cursor, none skipped')
  t.equal(body.hasMore, true)
})

t.test('a poll that parks after the shutdown released every held poll answers at once', async t => {
  const app = await buildTestApp(t)
  const alice = await register(app, 'alice')
  const cursor = Number((await as(app, alice, 'GET', '/api/poll')).json().cursor)
  const engine = app.engine
  // The poll passes the closing check, then waits on the database (its memberships)...
  const pending = engine.poll({ userId: Number(alice.user.id), address: '127.0.0.1', cursor, limit: 10, timeoutMs: 30000, departure: new ClientDeparture() })
  // ...while the shutdown begins.
  engine.releaseAll()
  const held = new Promise<'held'>(resolve => setTimeout(() => resolve('held'), 5000).unref())
  const outcome = await Promise.race([pending, held])
  t.same(outcome, { events: [], cursor, hasMore: false }, 'answered, not held until the connections are cut')
  t.equal(engine.held, 0)
})

t.test('a request after a revocation does not join a credential load that began before it', async t => {
  const cache = new LoadOnceCache<number, string>(60000)
  let finishStale: (value: string) => void = () => {}
  const before = cache.get(1, async () => await new Promise<string>(resolve => { finishStale = resolve }))
  // The revocation reaches this node while that load is in flight.
  cache.deleteWhere(key => key === 1)
  const after = cache.get(1, async () => 'fresh')
  finishStale('revoked session')
  t.equal(await before, 'revoked session', 'the request that came first gets what it asked for')
  t.equal(await after, 'fresh', 'the request after the revocation loads again')
  t.equal(await cache.get(1, async () => 'third'), 'fresh', 'and the fresh load is what stays cached')
})

t.test('a wake-up at any moment of a running tick is never absorbed until the next timer', { skip: usingMariaDb() ? 'needs a commit at an exact moment: only the embedded database commits synchronously' : false }, async t => {
  const database = await createTestDatabase(t)
  // A long interval: a lost wake-up waits for the idle timer, so the check right after the tick sees it.
  const app = await buildApp(testConfig(database, { FEED_INTERVAL_MS: '60000' }))
  t.teardown(async () => { await app.close() })
  await app.ready()
  const alice = await register(app, 'alice')
  const feed = app.feed
  // A second connection commits events synchronously, so a commit and its
  // wake-up can be placed at every moment of a tick, one microtask apart.
  const writer = new SqliteDatabase(join(database.dataDir, 'chat.sqlite'))
  writer.pragma('busy_timeout = 5000')
  t.teardown(() => writer.close())
  const commitOne = writer.transaction((): number => {
    const last = Number((writer.prepare('SELECT last_id FROM event_seq WHERE id = 1').get() as { last_id: number }).last_id)
    writer.prepare('INSERT INTO events (id, room_id, user_id, target_user_id, type, body, created_at) VALUES (?, NULL, ?, ?, \'auth\', NULL, ?)')
      .run(last + 1, Number(alice.user.id), Number(alice.user.id), Date.now())
    writer.prepare('UPDATE event_seq SET last_id = ? WHERE id = 1').run(last + 1)
    return last + 1
  })
  let lost = 0
  for (let offset = 0; offset < 60; offset++) {
    await until(() => !feed.busy)
    feed.wake()
    for (let i = 0; i < offset; i++) await Promise.resolve()
    const id = commitOne()
    feed.wake()
    await until(() => !feed.busy)
    if (feed.head < id) {
      lost++
      await feed.waitForHead(id, 5000)
    }
  }
  t.equal(lost, 0, 'every committed event was read right after the wake-up its commit sent')
})
