import t from 'tap'
import { as, buildTestApp, listenOn, register, send, type Session } from '../helper.js'
import { createTestDatabase } from '../helpers/database.js'

// The feed reads typing notices when this process wrote one, and other
// processes' at most one interval after its last look; a wake-up for events
// this process committed reads the events alone.

t.test('a send wakes one read of the events, not a read of typing notices too', async t => {
  // No interval ticks during the test: every read comes from a wake-up.
  const app = await buildTestApp(t, { FEED_INTERVAL_MS: '60000' })
  const alice = await register(app, 'alice')
  const bob = await register(app, 'bob')
  // Not in the room: dave's poll stays held through every send below.
  const dave = await register(app, 'dave')
  await as(app, alice, 'POST', '/api/rooms', { name: 'general' })
  await as(app, bob, 'POST', '/api/rooms/general/join')

  let typingReads = 0
  t.teardown(app.database.watchQueries(sql => { if (/from [`"]ephemeral_events[`"]/i.test(sql) && /^select/i.test(sql)) typingReads++ }))
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 100 && app.feed.busy; i++) await new Promise(resolve => setTimeout(resolve, 10))
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  const queriesOfSend = async (text: string, poller?: Session): Promise<number> => {
    const head = (await as(app, alice, 'GET', '/api/poll')).json().cursor as string
    const held = poller === undefined ? null : as(app, poller, 'GET', `/api/poll?cursor=${head}&timeout=20`)
    if (held !== null) {
      for (let i = 0; i < 100 && app.engine.held === 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
      t.equal(app.engine.held, 1, 'a poll is held')
      // The first tick with a poll held looks for typing notices: measure the send after it.
      await send(app, alice, 'general', `${text}, first`)
    }
    await settle()
    const before = app.database.queryCount()
    await send(app, alice, 'general', text)
    await settle()
    const queries = app.database.queryCount() - before
    // (Answered when the app closes.)
    if (held !== null) t.equal(app.engine.held, 1, 'the poll stayed held through the send')
    return queries
  }

  // Presence writes news (a user seen for the first time) a second later: get them written now.
  for (const who of [alice, dave]) await as(app, who, 'GET', '/api/poll?timeout=0')
  await app.presence.flush()
  await queriesOfSend('warm-up')
  const alone = await queriesOfSend('nobody polls')
  const withPoll = await queriesOfSend('dave polls', dave)
  t.equal(withPoll, alone, `a send costs ${alone} queries whether or not a poll is held (${withPoll} with one)`)
  t.ok(typingReads > 0, 'typing notices were read while the poll was held (the first look)')
  const readsBefore = typingReads
  await send(app, alice, 'general', 'dave still polls')
  await settle()
  t.equal(app.engine.held, 1, "dave's poll is still held")
  t.equal(typingReads, readsBefore, 'no read of typing notices for a send')
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
