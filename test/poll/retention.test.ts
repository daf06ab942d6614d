import t from 'tap'
import { EventRetention } from '../../src/events/retention.js'
import { as, buildTestApp, register } from '../helper.js'

t.test('old events are deleted in batches by one node at a time; an older cursor gets cursor_reset; history keeps the messages', async t => {
  const app = await buildTestApp(t, { FEED_WINDOW: '100' })
  const alice = await register(app, 'alice')
  await as(app, alice, 'POST', '/api/rooms', { name: 'kept' })
  const start = Number((await as(app, alice, 'GET', '/api/poll')).json().cursor)
  const ids: number[] = []
  for (let i = 0; i < 150; i++) ids.push(Number((await as(app, alice, 'POST', '/api/rooms/kept/messages', { text: `m${i}` })).json().event.id))
  const { db } = app.database
  const dayMs = 86400000
  const now = Date.now()
  // The first 120 messages (and everything before them) are 31 days old.
  await db.updateTable('events').set({ created_at: now - 31 * dayMs }).where('id', '<=', ids[119] as number).execute()

  const log = app.log
  const first = new EventRetention({ db, log, days: 30, batchSize: 50 })
  const second = new EventRetention({ db, log, days: 30, batchSize: 50 })
  t.teardown(async () => { await first.stop(); await second.stop() })
  t.equal(await first.runOnce(now), ids[119] as number, 'every event up to the last old one went, in batches of 50')
  t.equal(await second.runOnce(now), null, 'another node skips while the first holds the lease')
  t.equal(await first.runOnce(now), 0, 'nothing more is due')

  const oldest = Number((await db.selectFrom('events').select(eb => eb.fn.min('id').as('m')).executeTakeFirst())?.m)
  t.equal(oldest, (ids[119] as number) + 1)
  const reset = await as(app, alice, 'GET', `/api/poll?cursor=${start}&timeout=0`)
  t.equal(reset.statusCode, 409)
  t.equal(reset.json().error.code, 'cursor_reset')
  t.equal(reset.json().error.cursor, String(ids[149]), 'with the head to go on from')
  const fine = (await as(app, alice, 'GET', `/api/poll?cursor=${oldest - 1}&timeout=0&limit=500`)).json()
  t.same(fine.events.map((e: { id: string }) => Number(e.id)), ids.slice(120), 'a cursor at the oldest kept event reads on')
  const history = (await as(app, alice, 'GET', '/api/rooms/kept/messages?limit=200')).json()
  t.equal(history.events.length, 150, 'messages stay in history')
})
