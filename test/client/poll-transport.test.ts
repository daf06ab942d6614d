import t, { type Test } from 'tap'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { loadClientModule } from './load.js'
import { freePort } from '../helpers/server-process.js'

// The client's real poll loop (public/poll.js, public/api.js) run in Node
// against a real HTTP server that answers as a proxy in the path would: a 504
// page after a long hold, our own 503 with its JSON body, a connection cut
// after 2 s, and a port where nothing listens.

type Status = 'connected' | 'reconnecting'
interface Loop { start: () => void, stop: () => void, setAway: (away: boolean) => void }
interface PollModule {
  PollLoop: new (o: {
    cursor: string | null
    onBatch: (events: unknown[], cursor: string) => void
    onHead: (cursor: string) => void
    onStatus: (s: Status) => void
    onUnauthenticated: () => void
    holdStore?: { load: () => unknown, save: (v: unknown) => void }
    away?: boolean
  }) => Loop
}

// The client's modules use relative URLs (they live under the page's base path)
// and listen for the browser's `online` event: give Node both.
let base = 'http://127.0.0.1:1/'
const realFetch = globalThis.fetch
globalThis.fetch = (input: string | URL | Request, init?: RequestInit) =>
  realFetch(typeof input === 'string' ? new URL(input, base) : input, init)
Object.assign(globalThis, { window: new EventTarget() })
t.teardown(() => { globalThis.fetch = realFetch })

const { PollLoop } = await loadClientModule<PollModule>('poll.js')

interface Seen { url: URL, at: number }
type Handler = (req: IncomingMessage, res: ServerResponse) => void

/** A server that answers the n-th request with the n-th handler. */
async function scriptedServer (t: Test, handlers: Handler[]) {
  const seen: Seen[] = []
  const server = createServer((req, res) => {
    seen.push({ url: new URL(req.url ?? '/', 'http://x'), at: Date.now() })
    const handler = handlers[seen.length - 1]
    if (handler) handler(req, res)
    // Past the script: hold like an idle server until the test ends.
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  return seen
}

const json = (status: number, body: unknown): Handler => (_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}
const after = (ms: number, handler: Handler): Handler => (req, res) => { setTimeout(() => handler(req, res), ms) }
const event = (id: string) => ({ id, type: 'message', roomId: '1', text: 'hi ' + id })

function run (t: Test, held: { hold: number, at: number } | null) {
  const statuses: Status[] = []
  const batches: unknown[][] = []
  const saved: unknown[] = []
  const loop = new PollLoop({
    cursor: null,
    onBatch: (events) => { if (events.length) batches.push(events) },
    onHead: () => {},
    onStatus: (s) => { statuses.push(s) },
    onUnauthenticated: () => {},
    holdStore: { load: () => held, save: (v) => { saved.push(v) } }
  })
  loop.start()
  t.teardown(() => loop.stop())
  return { statuses, batches, saved }
}

async function until (what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

t.test('a proxy 504 after a long hold: a shorter hold at once, no failure, status unchanged', async t => {
  const seen = await scriptedServer(t, [
    json(200, { events: [], cursor: '1', hasMore: false }),
    after(6_000, (_req, res) => {
      res.writeHead(504, { 'content-type': 'text/html' }).end('<html><body><h1>504 Gateway Time-out</h1></body></html>')
    }),
    json(200, { events: [event('2')], cursor: '2', hasMore: false })
  ])
  // Learned earlier: 10 s survive; the path now cuts at 6 s.
  const loop = run(t, { hold: 10, at: Date.now() })
  await until('the event after the cut', () => loop.batches.length === 1)
  t.equal(seen[1]?.url.searchParams.get('timeout'), '10', 'the learned hold was asked for')
  t.equal(seen[2]?.url.searchParams.get('timeout'), '5', 'after the cut at 6 s: 5 s, the floor')
  t.ok((seen[2]?.at ?? 0) - (seen[1]?.at ?? 0) >= 6_000, 'the re-poll came after the cut')
  t.same(loop.statuses, ['connected'], 'the status never left "connected"')
  t.match(loop.saved, [{ hold: 5 }], 'the new hold is stored')
})

t.test('our own 503 (JSON error body) is an outage: backoff and "reconnecting"', async t => {
  const seen = await scriptedServer(t, [
    json(200, { events: [], cursor: '1', hasMore: false }),
    json(503, { error: { code: 'unavailable', message: 'The server is busy.' } }),
    json(200, { events: [event('2')], cursor: '2', hasMore: false })
  ])
  const loop = run(t, null)
  await until('the event after the outage', () => loop.batches.length === 1)
  t.same(loop.statuses, ['connected', 'reconnecting', 'connected'], 'reconnecting, then connected')
  t.equal(seen[2]?.url.searchParams.get('timeout'), null, 'the hold is left to the server')
  t.same(loop.saved, [], 'nothing learned')
})

t.test('a connection cut after 2 s is an outage', async t => {
  const seen = await scriptedServer(t, [
    json(200, { events: [], cursor: '1', hasMore: false }),
    after(2_000, (req) => { req.socket.destroy() }),
    json(200, { events: [event('2')], cursor: '2', hasMore: false })
  ])
  const loop = run(t, null)
  await until('the event after the cut', () => loop.batches.length === 1)
  t.same(loop.statuses, ['connected', 'reconnecting', 'connected'])
  t.equal(seen[2]?.url.searchParams.get('timeout'), null, 'the hold is left to the server')
  t.same(loop.saved, [], 'nothing learned')
})

t.test('a refused connection is an outage', async t => {
  base = `http://127.0.0.1:${await freePort()}/`
  const loop = run(t, { hold: 27, at: Date.now() })
  await until('reconnecting', () => loop.statuses.length > 0)
  t.same(loop.statuses, ['reconnecting'])
  t.same(loop.saved, [], 'the learned hold is kept')
})

t.test('away rides on the polls; a change replaces the held poll at once, same cursor, no failure', async t => {
  const hold: Handler = () => {} // an idle server holding the poll
  const seen = await scriptedServer(t, [json(200, { events: [], cursor: '7', hasMore: false }), hold, hold, json(200, { events: [event('8')], cursor: '8', hasMore: false })])
  const statuses: Status[] = []
  const batches: unknown[][] = []
  const loop = new PollLoop({ cursor: null, away: true, onBatch: (events) => { if (events.length) batches.push(events) }, onHead: () => {}, onStatus: (s) => { statuses.push(s) }, onUnauthenticated: () => {} })
  loop.start()
  t.teardown(() => loop.stop())
  await until('the held poll', () => seen.length === 2)
  t.equal(seen[0]?.url.searchParams.get('away'), '1', 'the head request says so too')
  t.equal(seen[1]?.url.searchParams.get('away'), '1')
  loop.setAway(true)
  loop.setAway(false)
  await until('the replacing poll', () => seen.length === 3)
  t.equal(seen[2]?.url.searchParams.get('cursor'), '7', 'the same cursor: nothing skipped')
  t.equal(seen[2]?.url.searchParams.get('away'), null, 'back: no flag')
  loop.setAway(true)
  await until('the event', () => batches.length === 1)
  t.equal(seen[3]?.url.searchParams.get('away'), '1')
  t.same(statuses, ['connected'], 'never "reconnecting"')
})
