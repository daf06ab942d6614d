import t from 'tap'
import Fastify from 'fastify'
import { request as httpRequest } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { getFastLane, setFastLane, setRawLane, type FastLane } from '../../src/http/server.js'
import { clientAddress, parsePollQuery, plainSessionCookie } from '../../src/poll/fast-lane.js'
import { as, buildTestApp, listenOn, register, send } from '../helper.js'

// The poll fast lane (src/poll/fast-lane.ts) answers most polls without
// Fastify. Requests made with app.inject never reach it (inject skips the
// server), so these tests go over real sockets: each request is made with the
// lane and again without it, and the two answers must be the same. The raw
// front before it (test/http/raw-front.test.ts) is off here: these are the
// polls on connections Node's server reads.

interface Answer { status: number, headers: Record<string, string | string[] | undefined>, body: string }

async function get (base: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return await new Promise((resolve, reject) => {
    const req = httpRequest(base + path, { headers }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }) })
    })
    req.on('error', reject)
    req.end()
  })
}

/** The answer without what differs between any two answers (the clock). */
const comparable = (a: Answer): unknown => ({ status: a.status, headers: { ...a.headers, date: undefined }, body: a.body })

/** Counts the requests the lane takes; `off()` sends everything to Fastify. */
function watchLane (app: FastifyInstance): { taken: () => number, off: () => void, on: () => void } {
  const lane = getFastLane(app.server)
  if (lane === undefined) throw new Error('no fast lane installed')
  setRawLane(app.server, undefined)
  let taken = 0
  const counting: FastLane = (req, res, handOver) => {
    const took = lane(req, res, handOver)
    if (took) taken++
    return took
  }
  setFastLane(app.server, counting)
  return { taken: () => taken, off: () => { setFastLane(app.server, undefined) }, on: () => { setFastLane(app.server, counting) } }
}

t.test('the query forms the lane takes, and what it leaves to the route', async t => {
  // Absent timeout and limit stay undefined: startPoll applies the server's defaults for both ways in.
  t.same(parsePollQuery(''), { cursor: null, timeout: undefined, limit: undefined, away: false })
  t.same(parsePollQuery('cursor=42&timeout=25&limit=7&away=1'), { cursor: 42, timeout: 25, limit: 7, away: true })
  t.same(parsePollQuery('away=0&cursor=0'), { cursor: 0, timeout: undefined, limit: undefined, away: false })
  for (const odd of ['cursor=4&cursor=5', 'cursor=%34', 'cursor=', 'cursor', 'cursor=-1', 'cursor=1.5', 'cursor=1234567890123456',
    'timeout=05', 'timeout=+5', 'timeout=1234567', 'limit=0', 'limit=501', 'limit=05', 'away=true', 'away=', 'x=1', '_=123',
    'cursor=1&', '&cursor=1', 'cursor=1&&timeout=2']) {
    t.equal(parsePollQuery(odd), null, `left to the route: ${odd}`)
  }
  t.equal(plainSessionCookie('a=b; chat_session=Fe26.2**x*y; c=d'), 'Fe26.2**x*y')
  t.equal(plainSessionCookie('chat_session=one; chat_session=two'), 'one', 'the first one, as the cookie parser')
  t.equal(plainSessionCookie('xchat_session=no'), undefined)
  t.equal(plainSessionCookie('chat_session=a%20b'), undefined, 'encoded: left to the cookie parser')
  t.equal(plainSessionCookie('chat_session="quoted"'), undefined)
  t.equal(plainSessionCookie(undefined), undefined)
})

t.test('the client address is Fastify\'s request.ip for every TRUST_PROXY form', async t => {
  const settings: Array<boolean | string[]> = [false, true, ['127.0.0.1'], ['loopback'], ['10.0.0.0/8'], ['127.0.0.1', '10.1.2.3']]
  const forwarded = [undefined, '203.0.113.9', '198.51.100.1, 10.1.2.3', '2001:db8::1, 127.0.0.1', 'not-an-ip']
  for (const trustProxy of settings) {
    const app = Fastify({ trustProxy })
    const ours = clientAddress(trustProxy)
    app.get('/ip', async (request) => ({ fastify: request.ip, ours: ours(request.raw.socket.remoteAddress, request.raw.headers['x-forwarded-for']) }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
    for (const xff of forwarded) {
      const answer = JSON.parse((await get(base, '/ip', xff === undefined ? {} : { 'x-forwarded-for': xff })).body)
      t.equal(answer.ours, answer.fastify, `trustProxy ${JSON.stringify(trustProxy)}, X-Forwarded-For ${xff ?? '(none)'}: ${answer.fastify}`)
    }
    await app.close()
  }
})

t.test('polls over real sockets: the lane answers as the route does', async t => {
  const app = await buildTestApp(t, { MAX_POLLS_PER_USER: '2', POLL_TIMEOUT: '1' })
  const base = await listenOn(app)
  const lane = watchLane(app)
  const alice = await register(app, 'alice')
  await as(app, alice, 'POST', '/api/rooms', { name: 'general' })
  const token = (await as(app, alice, 'POST', '/api/tokens', { name: 'bot', password: 'correct horse battery' })).json().token as string
  const first = Number(await send(app, alice, 'general', 'one'))
  await send(app, alice, 'general', 'two')
  await send(app, alice, 'general', 'three')
  const bearer = { authorization: `Bearer ${token}` }
  const cookie = { cookie: alice.cookie }
  // Credentials memory knows: the lane only takes those.
  await get(base, '/api/poll?timeout=0', bearer)
  await get(base, '/api/poll?timeout=0', cookie)

  const cases: Array<{ name: string, path: string, headers: Record<string, string>, lane: boolean }> = [
    { name: 'behind the head, by token', path: `/api/poll?cursor=${first - 1}`, headers: bearer, lane: true },
    { name: 'behind the head, by cookie', path: `/api/poll?cursor=${first - 1}&timeout=5`, headers: cookie, lane: true },
    { name: 'one event a page', path: `/api/poll?cursor=${first - 1}&limit=1`, headers: bearer, lane: true },
    { name: 'away, with a short hold that ends empty', path: `/api/poll?cursor=${first + 2}&timeout=1&away=1`, headers: cookie, lane: true },
    { name: 'no wait at the head', path: `/api/poll?cursor=${first + 2}&timeout=0`, headers: bearer, lane: true },
    { name: 'no cursor: the head', path: '/api/poll', headers: bearer, lane: true },
    { name: 'a cursor ahead of the server: 409', path: '/api/poll?cursor=999999', headers: bearer, lane: true },
    { name: 'a malformed cursor: 400 from the route', path: '/api/poll?cursor=abc', headers: bearer, lane: false },
    { name: 'a limit out of range: 400 from the route', path: '/api/poll?cursor=1&limit=501', headers: cookie, lane: false },
    { name: 'an unknown token: 401 from the route', path: '/api/poll?cursor=1', headers: { authorization: 'Bearer lpc_nope' }, lane: false },
    { name: 'no credentials: 401 from the route', path: '/api/poll?cursor=1', headers: {}, lane: false },
    { name: 'a trailing slash: the route', path: `/api/poll/?cursor=${first}&timeout=0`, headers: bearer, lane: false }
  ]
  for (const c of cases) {
    const before = lane.taken()
    const fast = await get(base, c.path, c.headers)
    t.equal(lane.taken() - before, c.lane ? 1 : 0, `${c.name}: ${c.lane ? 'taken by the lane' : 'left to the route'}`)
    lane.off()
    const routed = await get(base, c.path, c.headers)
    lane.on()
    t.same(comparable(fast), comparable(routed), `${c.name}: the same answer (${fast.status})`)
  }
  t.equal(app.engine.held, 0, 'nothing left held')
})

t.test('a held poll in the lane: woken by a send, freed when the client leaves, refused past the cap like the route', async t => {
  const app = await buildTestApp(t, { MAX_POLLS_PER_USER: '1' })
  const base = await listenOn(app)
  const lane = watchLane(app)
  const alice = await register(app, 'alice')
  await as(app, alice, 'POST', '/api/rooms', { name: 'general' })
  const head = JSON.parse((await get(base, '/api/poll', { cookie: alice.cookie })).body).cursor as string
  const before = lane.taken()

  const held = get(base, `/api/poll?cursor=${head}&timeout=20`, { cookie: alice.cookie })
  for (let i = 0; i < 200 && app.engine.held === 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
  t.equal(app.engine.held, 1, 'held')
  // Past the per-user cap: the lane hands the poll to the route, which refuses it.
  const refused = await get(base, `/api/poll?cursor=${head}&timeout=20`, { cookie: alice.cookie })
  lane.off()
  const refusedByRoute = await get(base, `/api/poll?cursor=${head}&timeout=20`, { cookie: alice.cookie })
  lane.on()
  t.equal(refused.status, 429)
  t.same(comparable(refused), comparable(refusedByRoute), 'the same refusal either way')
  t.equal(refused.headers['retry-after'], '5')

  await send(app, alice, 'general', 'wake up')
  const woken = await held
  t.equal(woken.status, 200)
  t.match(JSON.parse(woken.body), { events: [{ type: 'message', text: 'wake up' }] })
  t.equal(woken.headers['x-accel-buffering'], 'no')
  t.equal(woken.headers['content-length'], String(Buffer.byteLength(woken.body)))
  t.ok(lane.taken() - before >= 2, 'the held poll and the refused one went through the lane')

  // A client that hangs up mid-hold: the poll is forgotten at once.
  const next = JSON.parse(woken.body).cursor as string
  const gone = httpRequest(`${base}/api/poll?cursor=${next}&timeout=20`, { headers: { cookie: alice.cookie } })
  gone.on('error', () => {})
  gone.end()
  for (let i = 0; i < 200 && app.engine.held === 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
  t.equal(app.engine.held, 1, 'held again')
  gone.destroy()
  for (let i = 0; i < 200 && app.engine.held > 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
  t.equal(app.engine.held, 0, 'released when the client left')
})

t.test('under a BASE_PATH the lane serves that path, and nothing outside it', async t => {
  const app = await buildTestApp(t, { BASE_PATH: '/chat' })
  const base = await listenOn(app)
  const lane = watchLane(app)
  const res = await app.inject({ method: 'POST', url: '/chat/api/register', payload: { username: 'alice', password: 'correct horse battery' } })
  const cookie = { cookie: (res.headers['set-cookie'] as string).split(';')[0] as string }
  await get(base, '/chat/api/poll', cookie)
  const before = lane.taken()
  const answer = await get(base, '/chat/api/poll?timeout=0', cookie)
  t.equal(answer.status, 200)
  t.equal(lane.taken() - before, 1, 'taken by the lane')
  const outside = await get(base, '/api/poll?timeout=0', cookie)
  t.equal(outside.status, 404, 'the path without the base is no poll route')
  t.equal(lane.taken() - before, 1, 'and the lane left it to Fastify')
})
