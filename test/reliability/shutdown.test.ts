import t from 'tap'
import { connect } from 'node:net'
import { Agent, request } from 'node:http'
import { startChatNode } from '../helpers/server-process.js'
import { createTestDatabase, usingMariaDb } from '../helpers/database.js'
import { call, setupRoom, sleep } from '../helpers/chat-traffic.js'

/*
 * SIGTERM on one node (a deploy). Held polls are answered at once with what
 * they have, so their clients poll again elsewhere; the node takes no new
 * work (whatever still arrives on an open connection gets the contract's 503
 * with Retry-After); and it exits within SHUTDOWN_TIMEOUT_MS, cleanly, even
 * with a client still trickling a request body (Node stops enforcing
 * REQUEST_TIMEOUT once the server closes). The two-node version under
 * traffic is node-restart.test.ts (MariaDB run).
 */

const skip = usingMariaDb() ? 'runs in the SQLite run; node-restart.test.ts covers the MariaDB run' : false
const shutdownTimeoutMs = 5000
const requestTimeout = 2

interface Got { status: number, headers: Record<string, string | string[] | undefined>, body: string }

/** A GET on a kept-alive connection of `agent`; network failures resolve as null. */
async function get (agent: Agent, port: number, path: string, token: string): Promise<Got | null> {
  return await new Promise(resolve => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers: { authorization: `Bearer ${token}` } }, res => {
      let body = ''
      res.on('data', (d: Buffer) => { body += d.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      res.on('error', () => resolve(null))
    })
    req.on('error', () => resolve(null))
    req.end()
  })
}

t.test('SIGTERM: held polls answered at once, late requests get 503, prompt exit', { skip }, async t => {
  const database = await createTestDatabase(t)
  const server = await startChatNode(t, database, {
    SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs),
    REQUEST_TIMEOUT: String(requestTimeout)
  })
  const { url, port } = server
  const [token] = await setupRoom(url, 1) as [string]
  const head = (await call(url, '/api/poll', { token })).body.cursor as string
  const agent = new Agent({ keepAlive: true, maxSockets: 10 })
  t.teardown(() => agent.destroy())

  // Clients that poll again the moment an answer comes, on the same connection.
  const repolls: Array<Got | null> = []
  const answered: Array<{ got: Got | null, at: number }> = []
  const clients = [0, 1, 2].map(async () => {
    const got = await get(agent, port, `/api/poll?cursor=${head}&timeout=20`, token)
    answered.push({ got, at: Date.now() })
    repolls.push(await get(agent, port, `/api/poll?cursor=${head}&timeout=20`, token))
  })
  // A client whose request is still on its way (headers incomplete) when the
  // signal comes, and completes it while the node drains.
  const arriving = connect(port, '127.0.0.1')
  let arrivingAnswer = ''
  arriving.on('data', (d: Buffer) => { arrivingAnswer += d.toString() })
  arriving.on('error', () => {})
  const arrivingClosed = new Promise(resolve => arriving.once('close', resolve))
  const arrivingBody = JSON.stringify({ text: 'sent while the node stops' })
  arriving.write('POST /api/rooms/load/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n')
  // A slow upload in flight keeps the node draining for up to REQUEST_TIMEOUT.
  const slow = connect(port, '127.0.0.1')
  slow.on('error', () => {})
  slow.write(`POST /api/rooms/load/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`)
  const drip = setInterval(() => { if (!slow.destroyed) slow.write(' ') }, 200)
  t.teardown(() => clearInterval(drip))
  await sleep(500)

  const stopping = Date.now()
  const exited = server.stop()
  setTimeout(() => {
    arriving.write(`Authorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${arrivingBody.length}\r\n\r\n${arrivingBody}`)
  }, 300)
  await Promise.all(clients)
  for (const { got, at } of answered) {
    t.equal(got?.status, 200, 'a held poll is answered, not reset')
    t.same(JSON.parse(got?.body ?? '{}'), { events: [], cursor: head, hasMore: false }, 'with what it has')
    t.ok(at - stopping < 2000, `at once (${at - stopping} ms)`)
  }
  for (const got of repolls) {
    if (got === null) {
      t.pass('a late poll found the connection closed')
      continue
    }
    t.equal(got.status, 503, 'a late poll is refused')
    t.match(got.headers['retry-after'], /^\d+$/, 'with Retry-After')
    t.equal(JSON.parse(got.body).error?.code, 'unavailable', 'in the contract\'s shape')
  }
  await arrivingClosed
  t.match(arrivingAnswer, /^HTTP\/1\.1 503 /, 'a request that arrives while draining is refused')
  t.match(arrivingAnswer, /\r\nretry-after: \d+\r\n/i, 'with Retry-After')
  t.match(arrivingAnswer, /"code":"unavailable"/, 'in the contract\'s shape')
  const fresh = await call(url, '/api/health').then(res => res.status, () => 'refused')
  t.equal(fresh, 'refused', 'no new connection is taken while draining')

  const code = await exited
  const ms = Date.now() - stopping
  t.equal(code, 0, 'exits cleanly')
  t.ok(ms < shutdownTimeoutMs, `within SHUTDOWN_TIMEOUT_MS (${ms} ms: the slow upload is cut halfway through)`)
})
