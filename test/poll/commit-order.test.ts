import t from 'tap'
import { sql } from 'kysely'
import { as, buildTestApp, register } from '../helper.js'
import { usingMariaDb } from '../helpers/database.js'

/*
 * Ids are handed out when a writer takes the counter lock, but transactions
 * could commit in another order. These tests make that happen on purpose and
 * check that a poller never skips an event.
 */
t.test('a writer that holds its transaction open makes the next writer wait; nothing is skipped', async t => {
  const app = await buildTestApp(t)
  const alice = await register(app, 'alice')
  await as(app, alice, 'POST', '/api/rooms', { name: 'order' })
  const room = (await as(app, alice, 'GET', '/api/rooms')).json().rooms[0]
  const cursor = (await as(app, alice, 'GET', '/api/poll')).json().cursor
  const { database } = app

  // Writer A takes id N and dawdles before committing.
  let releaseA: () => void = () => {}
  const aHolds = new Promise<void>(resolve => { releaseA = resolve })
  let aHasId: (id: number) => void = () => {}
  const aId = new Promise<number>(resolve => { aHasId = resolve })
  const { EventLog } = await import('../../src/events/event-log.js')
  const log = new EventLog(database, () => app.feed.wake())
  const writerA = log.write(async (_trx, pending) => {
    const e = pending.append({ type: 'message', roomId: Number(room.id), user: { id: alice.user.id, username: 'alice', displayName: 'alice' }, payload: { text: 'A', clientId: null } })
    aHasId(e.id)
    await aHolds
  })
  const idA = await aId
  // Writer B starts after A took its id; it must not be able to commit first.
  let bDone = false
  const writerB = as(app, alice, 'POST', '/api/rooms/order/messages', { text: 'B' }).then(res => { bDone = true; return res })
  await new Promise(resolve => setTimeout(resolve, 300))
  t.equal(bDone, false, 'B waits for A to finish')
  if (usingMariaDb()) {
    // (SQLite has one connection, which A holds: a poll there would wait for A.)
    const early = (await as(app, alice, 'GET', `/api/poll?cursor=${cursor as string}&timeout=0`)).json()
    t.same(early.events, [], 'nothing is visible while A is open')
    t.equal(early.cursor, cursor)
  }
  releaseA()
  await writerA
  const b = (await writerB).json().event
  t.equal(Number(b.id), idA + 1, 'B got the next id and committed after A')
  const polled = (await as(app, alice, 'GET', `/api/poll?cursor=${cursor as string}&timeout=2`)).json()
  let events = polled.events
  if (events.length < 2) events = events.concat((await as(app, alice, 'GET', `/api/poll?cursor=${polled.cursor as string}&timeout=2`)).json().events)
  t.same(events.map((e: { text: string }) => e.text), ['A', 'B'])
})

t.test('a row committed past a hole is not read until the hole fills', { skip: usingMariaDb() ? false : 'needs a second connection that commits independently: MariaDB only' }, async t => {
  const app = await buildTestApp(t)
  const alice = await register(app, 'alice')
  await as(app, alice, 'POST', '/api/rooms', { name: 'gap' })
  const room = (await as(app, alice, 'GET', '/api/rooms')).json().rooms[0]
  const cursor = Number((await as(app, alice, 'GET', '/api/poll')).json().cursor)
  const { db } = app.database
  const row = (id: number, text: string): Record<string, unknown> => ({
    id, room_id: Number(room.id), user_id: Number(alice.user.id), target_user_id: null, type: 'message', body: JSON.stringify({ text, clientId: null }), created_at: Date.now()
  })
  // Bypass the counter on purpose: transaction X writes id cursor+1 and stays
  // open while Y writes cursor+2 and commits first, as plain auto-increment
  // writers could. The feed must stop at the hole, then deliver both in order.
  let releaseX: () => void = () => {}
  const xHolds = new Promise<void>(resolve => { releaseX = resolve })
  const x = db.transaction().execute(async trx => {
    await trx.insertInto('events').values(row(cursor + 1, 'first') as never).execute()
    await xHolds
  })
  await new Promise(resolve => setTimeout(resolve, 100))
  await db.insertInto('events').values(row(cursor + 2, 'second') as never).execute()
  app.feed.wake()
  await new Promise(resolve => setTimeout(resolve, 300))
  t.equal(app.feed.head, cursor, 'the feed waits at the hole')
  const during = (await as(app, alice, 'GET', `/api/poll?cursor=${cursor}&timeout=0`)).json()
  t.same(during.events, [])
  releaseX()
  await x
  await sql`UPDATE event_seq SET last_id = ${cursor + 2} WHERE id = 1`.execute(db)
  const after = (await as(app, alice, 'GET', `/api/poll?cursor=${cursor}&timeout=2`)).json()
  t.same(after.events.map((e: { text: string }) => e.text), ['first', 'second'])
})
