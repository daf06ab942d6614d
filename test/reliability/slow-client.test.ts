import t from 'tap'
import { connect, type Socket } from 'node:net'
import { startChatNode } from '../helpers/server-process.js'
import { createTestDatabase, usingMariaDb } from '../helpers/database.js'
import { call, setupRoom, sleep } from '../helpers/chat-traffic.js'
import { buildTestApp } from '../helper.js'

/*
 * Slow clients (slowloris): headers or a body trickled a byte at a time must
 * not hold a socket for long. REQUEST_TIMEOUT bounds receiving a request; a
 * held poll, whose request is complete, is not cut by it.
 */

const skip = usingMariaDb() ? 'database-independent: runs in the SQLite run only' : false
const requestTimeout = 2

interface Cut { ms: number, answer: string }

/** Opens a socket, writes `head`, then one byte of `drip` every 200 ms until the server ends it. */
async function trickle (port: number, head: string, drip: string): Promise<Cut> {
  const started = Date.now()
  const socket: Socket = connect(port, '127.0.0.1')
  let answer = ''
  socket.on('data', (d: Buffer) => { answer += d.toString() })
  socket.on('error', () => {})
  socket.write(head)
  let i = 0
  const timer = setInterval(() => {
    if (!socket.destroyed && i < drip.length) socket.write(drip[i++] as string)
  }, 200)
  await new Promise(resolve => socket.once('close', resolve))
  clearInterval(timer)
  return { ms: Date.now() - started, answer }
}

t.test('slow headers and slow bodies are cut off in bounded time, at no lasting cost', { skip }, async t => {
  const database = await createTestDatabase(t)
  const server = await startChatNode(t, database, {
    EXPOSE_STATS: 'true',
    REQUEST_TIMEOUT: String(requestTimeout)
  })
  const { url, port } = server
  const [token] = await setupRoom(url, 1) as [string]
  const before = (await call(url, '/api/debug/stats')).body as { connections: number }
  const head = (await call(url, '/api/poll', { token })).body.cursor as string

  // A poll held longer than REQUEST_TIMEOUT: its request is complete, so it is not cut.
  const held = (async () => {
    const started = Date.now()
    const res = await call(url, `/api/poll?cursor=${head}&timeout=${requestTimeout + 2}`, { token })
    return { res, ms: Date.now() - started }
  })()

  const text = 'x'.repeat(200)
  const body = JSON.stringify({ text, clientId: 'slow' })
  const sendHead = `POST /api/rooms/load/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`
  const slowBodies = Array.from({ length: 20 }, async () => await trickle(port, sendHead, body))
  const slowHeaders = Array.from({ length: 20 }, async () => await trickle(port, 'GET /api/health HTTP/1.1\r\n', 'Host: 127.0.0.1\r\nX-Slow: ' + 'y'.repeat(100)))

  for (const cut of await Promise.all(slowBodies)) {
    t.ok(cut.ms < (requestTimeout + 2.5) * 1000, `a trickled body is cut off (${cut.ms} ms)`)
    t.match(cut.answer, /^(HTTP\/1\.1 408|$)/, 'with 408 Request Timeout or a closed socket')
  }
  for (const cut of await Promise.all(slowHeaders)) {
    t.ok(cut.ms < (requestTimeout + 2.5) * 1000, `trickled headers are cut off (${cut.ms} ms)`)
  }
  const { res, ms } = await held
  t.equal(res.status, 200, 'the held poll was not cut')
  t.ok(ms >= (requestTimeout + 2) * 1000 - 100, `it answered at its own timeout (${ms} ms)`)

  // Nothing lasting: no message half-stored, no socket or poll left behind.
  const history = await call(url, '/api/rooms/load/messages', { token })
  t.same(history.body.events, [], 'no message was stored from a cut-off body')
  let stats = (await call(url, '/api/debug/stats')).body as { connections: number, heldPolls: number }
  for (let i = 0; i < 20 && stats.connections > before.connections; i++) {
    await sleep(100)
    stats = (await call(url, '/api/debug/stats')).body
  }
  t.ok(stats.connections <= before.connections, `no slow socket left open (${stats.connections})`)
  t.equal(stats.heldPolls, 0, 'no poll left held')
  const sent = await call(url, '/api/rooms/load/messages', { method: 'POST', token, body: { text: 'still here' } })
  t.equal(sent.status, 201, 'and the server still serves')
})

t.test('the server applies its socket timeouts (the server factory must pass them on)', async t => {
  // A client that never reads a large answer is let go once its socket idles
  // (POLL_MAX_TIMEOUT + 30 s). Node detects a stalled write only on the second
  // idle period, over a minute even with POLL_MAX_TIMEOUT=1, too slow for CI:
  // check that the limits are in force instead. Before the fix they were not:
  // Fastify applies them only to servers it creates, and sockets never idled out.
  const app = await buildTestApp(t, { POLL_MAX_TIMEOUT: '40', REQUEST_TIMEOUT: '7' })
  t.equal(app.server.timeout, 70000, 'idle sockets close, but after the longest hold')
  t.equal(app.server.requestTimeout, 7000, 'a request must arrive within REQUEST_TIMEOUT')
  t.ok(app.server.keepAliveTimeout > 0, 'kept-alive sockets close too')
})
