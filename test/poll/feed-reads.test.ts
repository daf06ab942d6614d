import t from 'tap'
import { as, buildTestApp, listenOn, register, send, sessionCookieOf } from '../helper.js'
import { createTestDatabase } from '../helpers/database.js'

// The feed reads typing notices when this process wrote one, and other
// processes' at most one interval after its last look; events this process
// committed are taken as written, with no read at all.

t.test('a send with a poll held makes no read of the events or of typing notices', async t => {
  // No interval looks (feed, webhooks) during the test: every read comes from a wake-up.
  const app = await buildTestApp(t, { FEED_INTERVAL_MS: '60000', WEBHOOK_INTERVAL_MS: '60000' })
  const alice = await register(app, 'alice')
  // Not in the room: dave's poll stays held through every send below.
  const dave = await register(app, 'dave')
  await as(app, alice, 'POST', '/api/rooms', { name: 'general' })

  // Counted by their SQL, so that other work (presence, webhooks) cannot blur the counts.
  const reads = { events: 0, typing: 0 }
  t.teardown(app.database.watchQueries(sql => {
    if (/^select .* from [`"]events[`"] as [`"]e[`"] left join/i.test(sql)) reads.events++
    if (/^select .* from [`"]ephemeral_events[`"] as [`"]e[`"]/i.test(sql)) reads.typing++
  }))
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 100 && app.feed.busy; i++) await new Promise(resolve => setTimeout(resolve, 10))
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  const readsOf = async (action: () => Promise<unknown>): Promise<{ events: number, typing: number }> => {
    await settle()
    const before = { ...reads }
    await action()
    await settle()
    return { events: reads.events - before.events, typing: reads.typing - before.typing }
  }

  const head = (await as(app, alice, 'GET', '/api/poll')).json().cursor as string
  // Answered when the app closes.
  as(app, dave, 'GET', `/api/poll?cursor=${head}&timeout=20`).catch(() => {})
  for (let i = 0; i < 100 && app.engine.held === 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
  t.equal(app.engine.held, 1, 'a poll is held')
  const sent = await readsOf(async () => await send(app, alice, 'general', 'first'))
  t.same(sent, { events: 0, typing: 0 }, 'a send: the feed takes its event as written')
  t.equal(app.feed.head, Number(head) + 1, 'and its head is past it')
  t.same(await readsOf(async () => await send(app, alice, 'general', 'second')), { events: 0, typing: 0 }, 'the next send too')
  t.same(await readsOf(async () => await as(app, alice, 'POST', '/api/rooms/general/typing')), { events: 1, typing: 1 }, 'a typing notice written here is read at once')
  t.equal(app.engine.held, 1, "dave's poll is still held")
})

t.test("another node's typing notice arrives while this node keeps committing events", async t => {
  const database = await createTestDatabase(t)
  const nodeA = await buildTestApp(t, { FEED_INTERVAL_MS: '100' }, database)
  const nodeB = await buildTestApp(t, { FEED_INTERVAL_MS: '100' }, database)
  const urlA = await listenOn(nodeA)
  const alice = await register(nodeA, 'alice')
  const bob = await register(nodeA, 'bob')
  const carol = await register(nodeA, 'carol')
  await as(nodeA, alice, 'POST', '/api/rooms', { name: 'general' })
  await as(nodeA, bob, 'POST', '/api/rooms/general/join')
  await as(nodeA, carol, 'POST', '/api/rooms', { name: 'busy' })

  // Carol commits on node A every 20 ms: node A's feed is woken far more often than its interval.
  const run = { sending: true, typedAt: 0, seenAt: 0 }
  const busy = (async () => { while (run.sending) { await send(nodeA, carol, 'busy', 'tick'); await new Promise(resolve => setTimeout(resolve, 20)) } })()
  t.teardown(() => { run.sending = false })

  // Bob polls node A throughout, so node A's feed has been looking (or not) for a while before alice types.
  let cursor = (await (await fetch(`${urlA}/api/poll`, { headers: { cookie: bob.cookie } })).json() as { cursor: string }).cursor
  const polling = (async () => {
    while (run.seenAt === 0 && (run.typedAt === 0 || Date.now() - run.typedAt < 5000)) {
      const res = await fetch(`${urlA}/api/poll?cursor=${cursor}&timeout=1`, { headers: { cookie: bob.cookie } })
      const body = await res.json() as { events: Array<{ type: string, user: { username: string } }>, cursor: string }
      if (body.events.some(e => e.type === 'typing' && e.user.username === 'alice')) run.seenAt = Date.now()
      cursor = body.cursor
    }
  })()
  await new Promise(resolve => setTimeout(resolve, 500))
  run.typedAt = Date.now()
  t.equal((await as(nodeB, alice, 'POST', '/api/rooms/general/typing')).statusCode, 204, 'alice types on node B')
  await polling
  run.sending = false
  await busy
  const seen = run.seenAt !== 0
  const took = seen ? run.seenAt - run.typedAt : Infinity
  t.ok(seen, `bob on node A sees alice typing on node B (after ${took} ms)`)
  t.ok(took < 2000, `within two seconds, not starved by node A's own commits: ${took} ms`)
})

t.test('an event taken as written is the same JSON another node reads from the database', async t => {
  const database = await createTestDatabase(t)
  const nodeA = await buildTestApp(t, { FEED_INTERVAL_MS: '50' }, database)
  const nodeB = await buildTestApp(t, { FEED_INTERVAL_MS: '50' }, database)
  const registered = await nodeA.inject({ method: 'POST', url: '/api/register', payload: { username: 'alice', password: 'correct horse battery', displayName: 'Alice Ä.' } })
  t.equal(registered.statusCode, 201)
  const alice = { cookie: sessionCookieOf(registered), user: registered.json().user }
  const bob = await register(nodeA, 'bob')
  const from = nodeA.feed.head
  // Every kind of field: a room object, addedBy, a clientId, text with quotes and
  // non-ASCII, an edit, a delete's `by`, a role change's target, a topic, a leave.
  t.equal((await as(nodeA, alice, 'POST', '/api/rooms', { name: 'general' })).statusCode, 201)
  t.equal((await as(nodeA, alice, 'POST', '/api/rooms/general/members', { username: 'bob' })).statusCode, 201)
  const sent = await as(nodeA, alice, 'POST', '/api/rooms/general/messages', { text: 'say "hi" – ünïcødé 🎉\n', clientId: 'c-1' })
  t.equal(sent.statusCode, 201)
  const messageId = sent.json().event.id as string
  t.equal((await as(nodeA, alice, 'PATCH', `/api/rooms/general/messages/${messageId}`, { text: 'edited' })).statusCode, 200)
  t.equal((await as(nodeA, alice, 'DELETE', `/api/rooms/general/messages/${messageId}`)).statusCode, 204)
  t.equal((await as(nodeA, alice, 'PATCH', '/api/rooms/general', { topic: 'a topic' })).statusCode, 200)
  t.equal((await as(nodeA, bob, 'POST', '/api/rooms/general/leave')).statusCode, 204)
  const to = nodeA.feed.head
  t.ok(to - from >= 7, `node A took ${to - from} events`)
  t.ok(await nodeB.feed.waitForHead(to, 5000), 'node B read them from the database')
  for (let id = from + 1; id <= to; id++) {
    const local = nodeA.feed.get(id)
    const read = nodeB.feed.get(id)
    t.ok(local !== undefined && read !== undefined, `event ${id} is in both windows`)
    t.same(local, read, `event ${id} (${read?.type ?? '?'}): the same routing facts and JSON on both nodes`)
    t.equal(local?.json, read?.json, `event ${id}: byte for byte`)
  }
})
