import t from 'tap'
import { connect } from 'node:net'
import { CoalescedRead } from '../../src/events/coalesced-read.js'
import { as, buildTestApp, listenOn, register, send } from '../helper.js'
import { setRawLane } from '../../src/http/server.js'
import { createTestDatabase } from '../helpers/database.js'

// A poll without a cursor starts at the database's committed head (a stale
// start would repeat events the client loaded as history). Clients that ask
// at the same time share one read, but never a read sent before they asked.

t.test('a coalesced read: callers share the next read, never one already sent', async t => {
  let committed = 0
  let reads = 0
  const gates: Array<() => void> = []
  const read = new CoalescedRead(async () => {
    reads++
    const seen = committed
    await new Promise<void>(resolve => gates.push(resolve))
    return seen
  })
  const first = read.get()
  // Committed after the first read was sent: these callers must see it.
  committed = 1
  const later = [read.get(), read.get(), read.get()]
  t.equal(reads, 1, 'the later callers wait for the read under way to end')
  gates.shift()?.()
  t.equal(await first, 0)
  await new Promise(resolve => setImmediate(resolve))
  t.equal(reads, 2, 'then one read for all of them')
  committed = 2
  gates.shift()?.()
  t.same(await Promise.all(later), [1, 1, 1], 'each sees the commit made before it asked')
  const alone = read.get()
  t.equal(reads, 3, 'with nothing under way, a caller reads at once')
  gates.shift()?.()
  t.equal(await alone, 2)

  const failing = new CoalescedRead(async () => { throw new Error('database gone') })
  await t.rejects(Promise.all([failing.get(), failing.get()]), /database gone/, 'a failed read fails its callers')
  const recovered = new CoalescedRead(async () => 7)
  t.equal(await recovered.get(), 7)
})

t.test('a burst of polls without a cursor: few queries, each cursor past what was committed before it', async t => {
  const database = await createTestDatabase(t)
  // Node A reads the stream rarely: its cursors must come from the database, not its own head.
  const nodeA = await buildTestApp(t, { FEED_INTERVAL_MS: '60000' }, database)
  const nodeB = await buildTestApp(t, {}, database)
  const urlA = await listenOn(nodeA)
  const alice = await register(nodeB, 'alice')
  await as(nodeB, alice, 'POST', '/api/rooms', { name: 'general' })
  const tokenRes = await as(nodeB, alice, 'POST', '/api/tokens', { name: 'bot', password: 'correct horse battery' })
  const headers = { authorization: `Bearer ${tokenRes.json().token as string}` }
  // Warm node A's memory of the token, so the burst takes the poll's own path.
  t.equal((await fetch(`${urlA}/api/poll?timeout=0`, { headers })).status, 200)

  const sent = Number(await send(nodeB, alice, 'general', 'written on node B'))
  // Counted by their SQL: node A's background work (presence, webhooks) may query meanwhile.
  let headReads = 0
  const unwatch = nodeA.database.watchQueries(sql => { if (/^select [`"]last_id[`"] from [`"]event_seq[`"]/i.test(sql)) headReads++ })
  // Pipelined on one connection, so that all of them are read in the same turn
  // of node A's event loop: deterministic on either database, however fast it is.
  // Node's server reads pipelined requests at once; the raw front (which takes
  // plain polls) answers them one after another, so it is off for this burst.
  setRawLane(nodeA.server, undefined)
  const burst = 100
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(new URL(urlA).port), '127.0.0.1')
    let text = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      text += chunk
      if (text.split('\r\n\r\n{').length > burst) { socket.destroy(); resolve(text) }
    })
    socket.on('error', reject)
    socket.write(`GET /api/poll HTTP/1.1\r\nhost: a\r\nauthorization: ${headers.authorization}\r\n\r\n`.repeat(burst))
  })
  unwatch()
  const bodies = [...raw.matchAll(/HTTP\/1\.1 (\d+)[^]*?\r\n\r\n(\{[^\n]*?\})(?=HTTP|$)/g)]
  t.equal(bodies.length, burst, 'every poll answered')
  for (const [, status, body] of bodies) {
    const answer = JSON.parse(body as string) as { events: unknown[], cursor: string }
    t.equal(status, '200')
    t.ok(Number(answer.cursor) >= sent, `cursor ${answer.cursor} is not before the message node B committed (${sent})`)
    t.same(answer.events, [], 'a starting poll carries no events')
  }
  // One read, then one for all that asked while it ran; a request split over two reads of the socket adds a pair.
  t.ok(headReads >= 1 && headReads <= 4, `${burst} polls read the head with ${headReads} queries`)
})
