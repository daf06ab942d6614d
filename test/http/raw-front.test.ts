import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { parseRequestHead } from '../../src/http/request-head.js'
import { getFastLane, getRawLane, rawConnectionCount, setFastLane, setRawLane } from '../../src/http/server.js'
import { createTestDatabase } from '../helpers/database.js'
import { getRequest, headerOf, WireClient, withoutDate, type WireAnswer } from '../helpers/raw-http.js'
import { as, buildTestApp, listenOn, register, send } from '../helper.js'

// The raw front (src/http/raw-front.ts) reads requests off connections itself
// and answers plain polls without Node's request objects; everything else goes
// to Node's server with its bytes untouched. These tests speak HTTP/1.1 byte
// for byte over real loopback sockets.

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

async function until (what: () => boolean): Promise<boolean> {
  for (let i = 0; i < 300 && !what(); i++) await sleep(10)
  return what()
}

/** Sends one request on a new connection and reads its answer; the connection stays open for the caller. */
async function exchange (base: string, request: string): Promise<{ client: WireClient, answer: WireAnswer }> {
  const client = await WireClient.open(base)
  client.write(request)
  return { client, answer: await client.answer() }
}

/** The same request three ways: raw front, Node's server with the fast lane, and Fastify's route alone. */
async function threeWays (app: FastifyInstance, base: string, request: string): Promise<{ answers: WireAnswer[], kept: boolean }> {
  const raw = getRawLane(app.server)
  const fast = getFastLane(app.server)
  const answers: WireAnswer[] = []
  let kept = false
  for (const [rawLane, fastLane] of [[raw, fast], [undefined, fast], [undefined, undefined]] as const) {
    setRawLane(app.server, rawLane)
    setFastLane(app.server, fastLane)
    const { client, answer } = await exchange(base, request)
    if (rawLane !== undefined) kept = rawConnectionCount(app.server) === 1
    client.socket.destroy()
    await client.closed
    await until(() => rawConnectionCount(app.server) === 0)
    answers.push(withoutDate(answer))
  }
  setRawLane(app.server, raw)
  setFastLane(app.server, fast)
  return { answers, kept }
}

t.test('the heads the front reads itself, and what it leaves to Node', async t => {
  t.same(parseRequestHead('GET /api/poll?cursor=4 HTTP/1.1\r\nHost: x\r\nCookie: a=b\r\nAuthorization: Bearer k\r\nX-Forwarded-For: 10.0.0.1\r\nConnection: keep-alive'),
    { url: '/api/poll?cursor=4', authorization: 'Bearer k', cookie: 'a=b', forwardedFor: '10.0.0.1' })
  t.same(parseRequestHead('GET / HTTP/1.1\r\nhOsT: x\r\naccept:*/*\r\nx-odd:  spaced\t '), { url: '/', authorization: undefined, cookie: undefined, forwardedFor: undefined })
  const leftToNode: Record<string, string> = {
    'another method': 'POST /api/poll HTTP/1.1\r\nHost: x',
    HEAD: 'HEAD /api/poll HTTP/1.1\r\nHost: x',
    'HTTP/1.0': 'GET /api/poll HTTP/1.0\r\nHost: x',
    'no Host': 'GET /api/poll HTTP/1.1\r\nAccept: */*',
    'two Hosts': 'GET /api/poll HTTP/1.1\r\nHost: x\r\nHost: y',
    'two Cookie headers': 'GET /api/poll HTTP/1.1\r\nHost: x\r\nCookie: a=1\r\nCookie: b=2',
    'two Authorization headers': 'GET /api/poll HTTP/1.1\r\nHost: x\r\nAuthorization: a\r\nAuthorization: b',
    'two X-Forwarded-For headers': 'GET /api/poll HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2.2.2.2',
    'Connection: close': 'GET /api/poll HTTP/1.1\r\nHost: x\r\nConnection: close',
    'Connection: upgrade': 'GET /api/poll HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket',
    'a body length, even 0': 'GET /api/poll HTTP/1.1\r\nHost: x\r\nContent-Length: 0',
    'a chunked body': 'GET /api/poll HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked',
    Expect: 'GET /api/poll HTTP/1.1\r\nHost: x\r\nExpect: 100-continue',
    'a folded line': 'GET /api/poll HTTP/1.1\r\nHost: x\r\nCookie: a=1\r\n b=2',
    'a bare LF': 'GET /api/poll HTTP/1.1\nHost: x',
    'a bare CR inside a line': 'GET /api/poll HTTP/1.1\r\nHost: x\ry: z',
    'a space before the colon': 'GET /api/poll HTTP/1.1\r\nHost : x',
    'no colon': 'GET /api/poll HTTP/1.1\r\nHost: x\r\nnonsense',
    'a byte beyond ASCII': 'GET /api/poll HTTP/1.1\r\nHost: x\r\nCookie: \xe9',
    'an absolute URL': 'GET http://x/api/poll HTTP/1.1\r\nHost: x',
    'a space in the target': 'GET /api/poll?a b HTTP/1.1\r\nHost: x',
    'over 16 KB': `GET /api/poll HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(16384)}`
  }
  for (const [name, head] of Object.entries(leftToNode)) t.equal(parseRequestHead(head), null, name)
})

t.test('a poll answered by the front is byte for byte what Node and Fastify answer', async t => {
  const app = await buildTestApp(t, { POLL_TIMEOUT: '1' })
  const base = await listenOn(app)
  const alice = await register(app, 'alice')
  await as(app, alice, 'POST', '/api/rooms', { name: 'general' })
  const token = (await as(app, alice, 'POST', '/api/tokens', { name: 'bot', password: 'correct horse battery' })).json().token as string
  const first = Number(await send(app, alice, 'general', 'one'))
  await send(app, alice, 'general', 'two')
  const bearer = { Authorization: `Bearer ${token}` }
  const cookie = { Cookie: alice.cookie }

  // The last field: whether the front answers it itself and keeps the connection.
  const cases: Array<[string, string, boolean]> = [
    ['events, by token', getRequest(`/api/poll?cursor=${first - 1}`, bearer), true],
    ['events, by cookie, kept alive', getRequest(`/api/poll?cursor=${first - 1}&limit=1`, { ...cookie, Connection: 'keep-alive' }), true],
    ['a short hold that ends empty', getRequest(`/api/poll?cursor=${first + 1}&timeout=1`, bearer), true],
    ['no cursor', getRequest('/api/poll', cookie), true],
    ['a cursor ahead of the server: 409 from the route', getRequest('/api/poll?cursor=999999', bearer), false],
    ['an unknown token: 401 from the route', getRequest('/api/poll?cursor=1', { Authorization: 'Bearer lpc_nope' }), false],
    ['no credentials: 401 from the route', getRequest('/api/poll?cursor=1'), false],
    ['a malformed cursor: 400 from the route', getRequest('/api/poll?cursor=x', bearer), false],
    ['Connection: close', getRequest(`/api/poll?cursor=${first - 1}`, { ...bearer, Connection: 'close' }), false]
  ]
  for (const [name, request, byFront] of cases) {
    const { answers: [raw, fast, routed], kept } = await threeWays(app, base, request)
    t.equal(kept, byFront, `${name}: ${byFront ? 'answered by the front' : 'left to Node'}`)
    t.same(raw, routed, `${name}: the front answers as the route (${raw?.statusLine})`)
    t.same(fast, routed, `${name}: and as the fast lane`)
  }
  t.equal(app.engine.held, 0, 'nothing left held')
})

t.test('a connection stays with the front while it polls, and goes to Node with the first other request', async t => {
  const app = await buildTestApp(t)
  const base = await listenOn(app)
  const alice = await register(app, 'alice')
  await as(app, alice, 'POST', '/api/rooms', { name: 'general' })
  const cookie = { Cookie: alice.cookie }
  const client = await WireClient.open(base)
  client.write(getRequest('/api/poll', cookie))
  const head = JSON.parse((await client.answer()).body).cursor as string
  t.equal(rawConnectionCount(app.server), 1, 'the front holds the connection')

  client.write(getRequest(`/api/poll?cursor=${head}&timeout=20`, cookie))
  t.ok(await until(() => app.engine.held === 1), 'a poll held on it')
  await send(app, alice, 'general', 'wake up')
  const woken = await client.answer()
  t.match(JSON.parse(woken.body), { events: [{ type: 'message', text: 'wake up' }] })
  t.equal(headerOf(woken, 'content-length'), String(Buffer.byteLength(woken.body)))

  // Pipelined in one write: a poll, a send with a body, another poll.
  const cursor = JSON.parse(woken.body).cursor as string
  const body = JSON.stringify({ text: 'pipelined' })
  client.write(getRequest(`/api/poll?cursor=${cursor}&timeout=0`, cookie) +
    `POST /api/rooms/general/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${alice.cookie}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}` +
    getRequest(`/api/poll?cursor=${cursor}&timeout=5`, cookie))
  const [empty, sent, next] = [await client.answer(), await client.answer(), await client.answer()]
  t.same(JSON.parse(empty.body).events, [], 'the first poll: nothing new yet')
  t.equal(sent.statusLine, 'HTTP/1.1 201 Created', 'the send, answered by the route')
  t.match(JSON.parse(next.body), { events: [{ type: 'message', text: 'pipelined' }] }, 'the last poll sees it')
  t.equal(rawConnectionCount(app.server), 0, 'Node has the connection now')

  // And Node keeps serving it.
  client.write(getRequest(`/api/poll?cursor=${JSON.parse(next.body).cursor as string}&timeout=0`, cookie))
  t.equal((await client.answer()).statusLine, 'HTTP/1.1 200 OK')
  client.socket.destroy()
})

t.test('a head split over two packets goes to Node, which reads it whole', async t => {
  const app = await buildTestApp(t)
  const base = await listenOn(app)
  const alice = await register(app, 'alice')
  const client = await WireClient.open(base)
  const request = getRequest('/api/poll?timeout=0', { Cookie: alice.cookie })
  client.write(request.slice(0, 20))
  await sleep(50)
  client.write(request.slice(20))
  const answer = await client.answer()
  t.equal(answer.statusLine, 'HTTP/1.1 200 OK')
  t.match(JSON.parse(answer.body), { events: [], hasMore: false })
  client.socket.destroy()
})

t.test('the first poll with credentials memory does not hold yet is looked up, not handed over', async t => {
  const database = await createTestDatabase(t)
  const first = await buildTestApp(t, {}, database)
  const alice = await register(first, 'alice')
  const token = (await as(first, alice, 'POST', '/api/tokens', { name: 'bot', password: 'correct horse battery' })).json().token as string
  // A second node on the same database: its memory knows neither credential.
  const app = await buildTestApp(t, {}, database)
  const base = await listenOn(app)
  for (const [name, headers] of [['token', { Authorization: `Bearer ${token}` }], ['cookie', { Cookie: alice.cookie }]] as const) {
    const { client, answer } = await exchange(base, getRequest('/api/poll?timeout=0', headers))
    t.equal(answer.statusLine, 'HTTP/1.1 200 OK', `${name}: answered`)
    t.equal(rawConnectionCount(app.server), 1, `${name}: and the connection stayed with the front`)
    client.socket.destroy()
    t.ok(await until(() => rawConnectionCount(app.server) === 0), 'forgotten when it closed')
  }
  const { client, answer } = await exchange(base, getRequest('/api/poll?timeout=0', { Authorization: 'Bearer lpc_unknown_token_0000000000000000000000000' }))
  t.equal(answer.statusLine, 'HTTP/1.1 401 Unauthorized', 'a token nobody has: the route refuses it')
  client.socket.destroy()
})

t.test('a held poll ends when its client leaves, hangs up halfway, or the server stops', async t => {
  const app = await buildTestApp(t, { MAX_HELD_POLLS: '2' })
  const base = await listenOn(app)
  const alice = await register(app, 'alice')
  const cookie = { Cookie: alice.cookie }
  const head = JSON.parse((await exchange(base, getRequest('/api/poll', cookie))).answer.body).cursor as string
  const hold = getRequest(`/api/poll?cursor=${head}&timeout=30`, cookie)

  const leaving = await WireClient.open(base)
  leaving.write(hold)
  t.ok(await until(() => app.engine.held === 1), 'held')
  leaving.socket.destroy()
  t.ok(await until(() => app.engine.held === 0), 'forgotten when the client left')

  const halfway = await WireClient.open(base)
  halfway.write(hold)
  t.ok(await until(() => app.engine.held === 1), 'held')
  halfway.socket.end()
  const last = await halfway.answer()
  t.same(JSON.parse(last.body), { events: [], cursor: head, hasMore: false }, 'a client that ends its side gets the empty answer')
  t.equal(headerOf(last, 'connection'), 'close')
  await halfway.closed
  t.equal(app.engine.held, 0)

  // Past MAX_HELD_POLLS the engine refuses: the front hands the poll to the route, which answers the 503.
  const holders = [await WireClient.open(base), await WireClient.open(base)]
  for (const h of holders) h.write(hold)
  t.ok(await until(() => app.engine.held === 2), 'two held')
  const { client: refused, answer: refusal } = await exchange(base, hold)
  t.equal(refusal.statusLine, 'HTTP/1.1 503 Service Unavailable')
  t.equal(JSON.parse(refusal.body).error.code, 'unavailable')
  t.equal(headerOf(refusal, 'retry-after'), '5')
  refused.socket.destroy()

  const idle = await WireClient.open(base)
  idle.write(getRequest(`/api/poll?cursor=${head}&timeout=0`, cookie))
  await idle.answer()
  const closing = app.close()
  for (const h of holders) {
    const answer = await h.answer()
    t.same(JSON.parse(answer.body).events, [], 'a held poll is answered at shutdown')
    await h.closed
  }
  t.ok(await Promise.race([idle.closed.then(() => true), sleep(5000).then(() => false)]), 'an idle connection is closed')
  await closing
  t.equal(rawConnectionCount(app.server), 0)
})
