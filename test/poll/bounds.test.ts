import t from 'tap'
import { as, buildTestApp, register } from '../helper.js'

// 4,000 backslashes, which JSON escapes to two characters each: about 8 KB per
// event (C0 controls, escaped to six, are refused in text now).
const heavy = (i: number): string => `x${i} ${'\\'.repeat(3990)}`
const eventBytes = 8000
const count = 150

t.test('an answer holds about 1 MiB at most; the window is capped in bytes; following cursors still gets everything once', async t => {
  const app = await buildTestApp(t, { FEED_WINDOW_BYTES: '200000' })
  const alice = await register(app, 'alice')
  await as(app, alice, 'POST', '/api/rooms', { name: 'heavy' })
  const start = (await as(app, alice, 'GET', '/api/poll')).json().cursor as string
  const ids: string[] = []
  for (let i = 0; i < count; i++) {
    const res = await as(app, alice, 'POST', '/api/rooms/heavy/messages', { text: heavy(i) })
    t.equal(res.statusCode, 201)
    ids.push(res.json().event.id)
  }
  await app.feed.waitForHead(Number(ids[count - 1]), 5000)
  const feed = app.feed
  const held = feed.head - feed.oldestInWindow + 1
  t.ok(held >= 1 && held * eventBytes <= 200000, `the window holds ${held} such events, within 200,000 bytes`)

  const first = await as(app, alice, 'GET', `/api/poll?cursor=${start}&timeout=0&limit=500`)
  t.ok(first.body.length <= 1.05 * 1024 * 1024, `answer of ${first.body.length} bytes`)
  const body = first.json()
  t.equal(body.hasMore, true, 'cut by size, not by limit')
  t.ok(body.events.length > 1 && body.events.length < count)

  const got: string[] = body.events.map((e: { id: string }) => e.id)
  let cursor: string = body.cursor
  for (let i = 0; i < 10 && got.length < ids.length; i++) {
    const next = (await as(app, alice, 'GET', `/api/poll?cursor=${cursor}&timeout=0&limit=500`)).json()
    got.push(...next.events.map((e: { id: string }) => e.id))
    cursor = next.cursor
  }
  t.same(got, ids, 'every event once, in order')
})
