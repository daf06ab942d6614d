import t from 'tap'
import { as, buildTestApp, listenOn, register, type Session } from '../helper.js'

const until = async (check: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached')
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

t.test('poll', async t => {
  const app = await buildTestApp(t, { POLL_MAX_TIMEOUT: '3', POLL_TIMEOUT: '2' })
  const base = await listenOn(app)
  const alice = await register(app, 'alice')
  const bob = await register(app, 'bob')
  const carol = await register(app, 'carol')
  await as(app, alice, 'POST', '/api/rooms', { name: 'general' })
  await as(app, bob, 'POST', '/api/rooms/general/join')

  const poll = async (s: Session, query: string, signal?: AbortSignal): Promise<Response> =>
    await fetch(`${base}/api/poll?${query}`, { headers: { cookie: s.cookie }, ...(signal === undefined ? {} : { signal }) })
  const head = async (s: Session): Promise<string> => (await (await poll(s, '')).json()).cursor

  t.test('without a cursor: the head, at once, not cached', async t => {
    const res = await poll(bob, '')
    t.equal(res.status, 200)
    t.equal(res.headers.get('cache-control'), 'no-store')
    const body = await res.json()
    t.same(body.events, [])
    t.match(body.cursor, /^\d+$/)
  })

  t.test('a held poll is answered by a send', async t => {
    const cursor = await head(bob)
    const started = Date.now()
    const pending = poll(bob, `cursor=${cursor}&timeout=3`)
    await until(() => app.engine.held === 1)
    const sent = (await as(app, alice, 'POST', '/api/rooms/general/messages', { text: 'wake up' })).json().event
    const body = await (await pending).json()
    t.ok(Date.now() - started < 2500, 'answered before the timeout')
    t.same(body.events.map((e: { id: string }) => e.id), [sent.id])
    t.equal(body.events[0].text, 'wake up')
    t.equal(body.cursor, sent.id)
    t.equal(body.hasMore, false)
  })

  t.test('timeout: empty events and the same cursor; timeout=0 answers at once; timeouts are capped', async t => {
    const cursor = await head(bob)
    let started = Date.now()
    const body = await (await poll(bob, `cursor=${cursor}&timeout=1`)).json()
    t.ok(Date.now() - started >= 900)
    t.same(body, { events: [], cursor, hasMore: false })
    started = Date.now()
    t.same(await (await poll(bob, `cursor=${cursor}&timeout=0`)).json(), { events: [], cursor, hasMore: false })
    t.ok(Date.now() - started < 500)
    started = Date.now()
    await (await poll(bob, `cursor=${cursor}&timeout=100`)).json()
    const held = Date.now() - started
    t.ok(held >= 2900 && held < 4500, `capped at POLL_MAX_TIMEOUT (held ${held} ms)`)
  })

  t.test('limit cuts the batch and says hasMore; following cursors gets all, in order, once', async t => {
    const cursor = await head(bob)
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push((await as(app, alice, 'POST', '/api/rooms/general/messages', { text: `n${i}` })).json().event.id)
    const first = await (await poll(bob, `cursor=${cursor}&limit=2`)).json()
    t.equal(first.hasMore, true)
    t.same(first.events.map((e: { id: string }) => e.id), ids.slice(0, 2))
    const second = await (await poll(bob, `cursor=${first.cursor as string}&limit=2`)).json()
    t.same(second.events.map((e: { id: string }) => e.id), ids.slice(2, 4))
    const third = await (await poll(bob, `cursor=${second.cursor as string}&limit=2`)).json()
    t.same(third.events.map((e: { id: string }) => e.id), ids.slice(4))
    t.equal(third.hasMore, false)
  })

  t.test('malformed cursor: 400; cursor ahead of the head: 409 cursor_reset with the head', async t => {
    for (const c of ['abc', '-1', '1.5', '9'.repeat(30)]) {
      const res = await poll(bob, `cursor=${c}`)
      t.equal(res.status, 400, c)
      t.equal((await res.json()).error.code, 'invalid')
    }
    const res = await poll(bob, 'cursor=999999999')
    t.equal(res.status, 409)
    const body = await res.json()
    t.equal(body.error.code, 'cursor_reset')
    t.equal(body.error.cursor, await head(bob))
    for (const q of ['limit=0', 'limit=501', 'timeout=-1']) t.equal((await poll(bob, `cursor=1&${q}`)).status, 400, q)
  })

  t.test('visibility follows membership, at its place in the stream', async t => {
    const cursor = await head(carol)
    await as(app, alice, 'POST', '/api/rooms/general/messages', { text: 'before carol' })
    await as(app, alice, 'POST', '/api/rooms', { name: 'private-one', visibility: 'private' })
    await as(app, alice, 'POST', '/api/rooms/private-one/messages', { text: 'secret' })
    const nothing = await (await poll(carol, `cursor=${cursor}&timeout=0`)).json()
    t.same(nothing.events, [], 'a non-member sees nothing of the rooms')
    await as(app, alice, 'POST', '/api/rooms/private-one/members', { username: 'carol' })
    await as(app, alice, 'POST', '/api/rooms/private-one/messages', { text: 'welcome' })
    const after = await (await poll(carol, `cursor=${nothing.cursor as string}&timeout=1`)).json()
    const types = after.events.map((e: { type: string, text?: string }) => e.text ?? e.type)
    t.ok(types.includes('member.joined'))
    t.ok(types.includes('welcome'))
    t.notOk(types.includes('before carol'))
    await as(app, carol, 'POST', '/api/rooms/private-one/leave')
    await as(app, alice, 'POST', '/api/rooms/private-one/messages', { text: 'after carol left' })
    const left = await (await poll(carol, `cursor=${after.cursor as string}&timeout=1`)).json()
    t.same(left.events.map((e: { type: string }) => e.type), ['member.left'], 'the leaver hears their own leave, then nothing')
  })

  t.test('a held poll of a user added to a room is woken by the add', async t => {
    const dave = await register(app, 'dave')
    const cursor = await head(dave)
    const pending = poll(dave, `cursor=${cursor}&timeout=3`)
    await until(() => app.engine.registry.countFor(Number(dave.user.id)) === 1)
    await as(app, alice, 'POST', '/api/rooms/general/members', { username: 'dave' })
    const body = await (await pending).json()
    t.equal(body.events[0]?.type, 'member.joined')
    t.equal(body.events[0]?.user.username, 'dave')
  })

  t.test('typing goes to held polls of others and never moves the cursor', async t => {
    const cursor = await head(bob)
    const pending = poll(bob, `cursor=${cursor}&timeout=3`)
    await until(() => app.engine.registry.countFor(Number(bob.user.id)) === 1)
    await as(app, alice, 'POST', '/api/rooms/general/typing')
    const body = await (await pending).json()
    t.equal(body.events.length, 1)
    t.match(body.events[0], { type: 'typing', id: null, user: { username: 'alice' } })
    t.equal(body.cursor, cursor)
  })

  t.test('read events go only to the reader', async t => {
    const bobCursor = await head(bob)
    const aliceCursor = await head(alice)
    const sent = (await as(app, alice, 'POST', '/api/rooms/general/messages', { text: 'read me' })).json().event
    await as(app, bob, 'POST', '/api/rooms/general/read', { eventId: sent.id })
    const bobs = await (await poll(bob, `cursor=${bobCursor}&timeout=0`)).json()
    const alices = await (await poll(alice, `cursor=${aliceCursor}&timeout=0`)).json()
    t.ok(bobs.events.some((e: { type: string, eventId?: string }) => e.type === 'read' && e.eventId === sent.id))
    t.notOk(alices.events.some((e: { type: string }) => e.type === 'read'))
  })

  t.test('a poll whose client disconnects is forgotten at once', async t => {
    const cursor = await head(bob)
    const controller = new AbortController()
    const pending = poll(bob, `cursor=${cursor}&timeout=3`, controller.signal).catch(() => null)
    await until(() => app.engine.held === 1)
    controller.abort()
    await pending
    await until(() => app.engine.held === 0, 1000)
    t.equal(app.engine.held, 0)
  })

  t.test('polls need credentials', async t => {
    t.equal((await fetch(`${base}/api/poll`)).status, 401)
  })

  t.test('after logout a cookie stops working on the poll path too', async t => {
    const erin = await register(app, 'erin')
    t.equal((await poll(erin, '')).status, 200)
    await as(app, erin, 'POST', '/api/logout')
    t.equal((await poll(erin, '')).status, 401)
  })
})

t.test('a client far behind the window reads from the database', async t => {
  const app = await buildTestApp(t, { FEED_WINDOW: '100' })
  const alice = await register(app, 'alice')
  await as(app, alice, 'POST', '/api/rooms', { name: 'busy' })
  const start = (await as(app, alice, 'GET', '/api/poll')).json().cursor
  const ids: string[] = []
  for (let i = 0; i < 260; i++) ids.push((await as(app, alice, 'POST', '/api/rooms/busy/messages', { text: `m${i}` })).json().event.id)
  await new Promise(resolve => setTimeout(resolve, 200))
  t.ok(app.feed.oldestInWindow > Number(ids[0]), 'the window has moved past the first messages')
  const got: string[] = []
  let cursor = start
  for (let i = 0; i < 10 && got.length < ids.length; i++) {
    const body = (await as(app, alice, 'GET', `/api/poll?cursor=${cursor as string}&limit=100&timeout=0`)).json()
    got.push(...body.events.map((e: { id: string }) => e.id))
    cursor = body.cursor
  }
  t.same(got, ids)
})
