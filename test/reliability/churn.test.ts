import t from 'tap'
import { request } from 'node:http'
import { connect } from 'node:net'
import { startChatNode } from '../helpers/server-process.js'
import { createTestDatabase, usingMariaDb } from '../helpers/database.js'
import { call, setupRoom, sleep } from '../helpers/chat-traffic.js'

/*
 * Clients that vanish cost nothing lasting. Thousands of held polls are
 * abandoned mid-hold (closed, reset, or left unread) on a real server process;
 * afterwards no poll is registered, no socket is left open, and memory has not
 * grown with the number of clients: the second round of churn adds no more
 * than noise to what the first left behind.
 */

const skip = usingMariaDb() ? 'database-independent: runs in the SQLite run only' : false
const perRound = 2000
const concurrency = 100

interface Stats { heldPolls: number, pollUsers: number, connections: number, rss: number, heapUsed: number }

t.test('connect/disconnect churn of held polls leaves nothing behind', { skip }, async t => {
  const database = await createTestDatabase(t)
  const server = await startChatNode(t, database, {
    EXPOSE_STATS: 'true',
    MAX_POLLS_PER_USER: String(concurrency),
    // So the stats route can collect garbage before it reports the heap.
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --expose-gc`
  })
  const { url, port } = server
  const tokens = await setupRoom(url, 1)
  // The web client's credential: a cookie, checked asynchronously (unsealed)
  // before the handler runs, so a client can leave before its poll is parked.
  const registered = await fetch(`${url}/api/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'browser', password: 'password-for-tests' }) })
  const cookie = (registered.headers.get('set-cookie') ?? '').split(';')[0] as string
  const credentials = [`Authorization: Bearer ${tokens[0] as string}`, `Cookie: ${cookie}`]
  const head = (await call(url, '/api/poll', { token: tokens[0] })).body.cursor as string
  const stats = async (): Promise<Stats> => (await call(url, '/api/debug/stats?gc=1')).body as Stats
  const path = (timeout: number): string => `/api/poll?cursor=${head}&timeout=${timeout}`

  /** One client that goes away while its poll is held, in one of three ways. */
  const churnOne = async (i: number): Promise<void> => {
    const credential = credentials[i % 2] as string
    const [name, value] = credential.split(': ') as [string, string]
    // Most leave while held; some at once, while their credentials are still being checked.
    const holdMs = i % 4 === 3 ? i % 10 : 50 + (i % 200)
    if (i % 3 === 2) {
      // Sends its poll and never reads: the answer (at the 1 s timeout) goes unread until the client leaves.
      const socket = connect(port, '127.0.0.1')
      socket.on('error', () => {})
      socket.pause()
      socket.write(`GET ${path(1)} HTTP/1.1\r\nHost: 127.0.0.1\r\n${credential}\r\n\r\n`)
      await sleep(holdMs)
      socket.destroy()
      return
    }
    await new Promise<void>(resolve => {
      const req = request({ host: '127.0.0.1', port, path: path(30), agent: false, headers: { [name]: value } })
      req.on('error', () => resolve())
      req.on('close', () => resolve())
      req.on('response', res => { res.resume() })
      req.end()
      setTimeout(() => {
        // A closed tab (FIN) or a dropped network (RST).
        if (i % 3 === 0) req.destroy()
        else req.socket?.resetAndDestroy()
        resolve()
      }, holdMs)
    })
  }

  const round = async (offset: number): Promise<void> => {
    let next = 0
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < perRound) await churnOne(offset + next++)
    }))
  }

  /** Waits until the server has forgotten every abandoned poll and socket. */
  const settled = async (): Promise<Stats> => {
    const deadline = Date.now() + 10000
    let s = await stats()
    while ((s.heldPolls > 0 || s.connections > before.connections) && Date.now() < deadline) {
      await sleep(200)
      s = await stats()
    }
    return s
  }

  // The test's own keep-alive connections stay open; abandoned ones must not.
  const before = await stats()
  // A first round warms up (JIT, pools, heap); its result is the baseline.
  const started = Date.now()
  await round(0)
  const first = await settled()
  t.equal(first.heldPolls, 0, 'no poll still registered after the first round')
  // Midway through the second round, the churning polls are really held.
  let peak = 0
  const sampling = (async () => {
    for (let i = 0; i < 10; i++) {
      await sleep(100)
      peak = Math.max(peak, (await call(url, '/api/debug/stats')).body.heldPolls as number)
    }
  })()
  await round(perRound)
  await sampling
  t.ok(peak > 10, `polls were held while their clients came and went (up to ${peak})`)
  const second = await settled()
  const ms = Date.now() - started
  t.equal(second.heldPolls, 0, 'no poll still registered')
  t.equal(second.pollUsers, 0, 'no user left in the waiter registry')
  t.ok(second.connections <= before.connections, `no abandoned socket left open (${second.connections}, ${before.connections} before)`)
  const mb = (n: number): string => `${(n / 1048576).toFixed(1)} MB`
  const growth = second.rss - first.rss
  t.comment(`${2 * perRound} clients in ${ms} ms; rss ${mb(first.rss)} → ${mb(second.rss)}, heap ${mb(first.heapUsed)} → ${mb(second.heapUsed)}`)
  // RSS is generous: the allocator keeps freed pages for a while. The heap is
  // measured after a full collection, so a leak of even 2 KB per client would
  // show there as 4 MB per round.
  t.ok(growth < 48 * 1048576, `memory flat across a round of ${perRound} clients (rss ${growth >= 0 ? '+' : ''}${mb(growth)})`)
  t.ok(second.heapUsed - first.heapUsed < 4 * 1048576, `heap flat (${mb(second.heapUsed - first.heapUsed)})`)

  // And the server still works: a fresh poll is held and answered.
  const res = await call(url, `${path(1)}`, { token: tokens[0] })
  t.equal(res.status, 200, 'a fresh poll still answers')
})
