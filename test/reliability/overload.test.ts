import t from 'tap'
import mysql from 'mysql2/promise'
import { buildTestApp, listenOn } from '../helper.js'
import { createTestDatabase, usingMariaDb } from '../helpers/database.js'
import { startChatNode } from '../helpers/server-process.js'
import { call, setupRoom, sleep, Traffic } from '../helpers/chat-traffic.js'

/*
 * Past its limits a node sheds load with 503 and Retry-After: it neither
 * slows everyone down nor grows without bound, and never answers 500. What it
 * accepted before and during the overload is still delivered exactly once.
 */

t.test('MAX_HELD_POLLS: the next poll gets 503 with Retry-After', async t => {
  const app = await buildTestApp(t, { MAX_HELD_POLLS: '3', MAX_POLLS_PER_USER: '10' })
  const url = await listenOn(app)
  const [token] = await setupRoom(url, 1) as [string]
  const head = (await call(url, '/api/poll', { token })).body.cursor as string
  const controllers = [0, 1, 2].map(() => new AbortController())
  const held = controllers.map(async c => await call(url, `/api/poll?cursor=${head}&timeout=20`, { token, signal: c.signal }).catch(() => null))
  while (app.engine.held < 3) await sleep(20)

  const refused = await call(url, `/api/poll?cursor=${head}&timeout=20`, { token })
  t.equal(refused.status, 503, 'one poll more is refused')
  t.equal(refused.body.error.code, 'unavailable')
  t.match(refused.retryAfter, /^\d+$/, 'with Retry-After')
  t.equal(app.engine.held, 3, 'and not held')
  t.equal((await call(url, `/api/poll?cursor=${head}&timeout=0`, { token })).status, 200, 'a short poll (nothing to hold) still answers')

  // A client leaving frees its slot at once.
  controllers[0]?.abort()
  while (app.engine.held > 2) await sleep(20)
  const again = call(url, `/api/poll?cursor=${head}&timeout=1`, { token })
  t.equal((await again).status, 200, 'the freed slot takes a new poll')
  for (const c of controllers) c.abort()
  await Promise.all(held)
})

t.test('tiny DB pool and queue: a burst gets 2xx or 503, never 500, nothing lost', {
  skip: usingMariaDb() ? false : 'MariaDB only: DB_POOL_SIZE and DB_QUEUE_LIMIT size the MySQL pool (set TEST_DATABASE_URL)'
}, async t => {
  const database = await createTestDatabase(t)
  // Users and room through an ordinary in-process node; the burst hits a starved one.
  const setup = await buildTestApp(t, {}, database)
  const tokens = await setupRoom(await listenOn(setup), 5)
  await setup.close()
  const node = await startChatNode(t, database, {
    DB_POOL_SIZE: '1',
    DB_QUEUE_LIMIT: '1',
    LOG_LEVEL: 'error'
  })
  const urls = [node.url]

  // 30 concurrent senders over three accounts, two pollers.
  const senderTokens = Array.from({ length: 30 }, (_, i) => tokens[i % 3] as string)
  const traffic = new Traffic({ urls, senderTokens, pollerTokens: tokens.slice(3, 5), pollTimeout: 2, retryPauseMs: 50 })
  await traffic.startPollers()
  traffic.startSenders()
  // Reads join the burst: a room list and a health check per round.
  const reads: string[] = []
  const readStatuses = new Map<number, number>()
  const started = Date.now()
  while (Date.now() - started < 3000) {
    await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      const res = await call(node.url, i % 2 === 0 ? '/api/rooms' : '/api/health', { token: tokens[0] })
      readStatuses.set(res.status, (readStatuses.get(res.status) ?? 0) + 1)
      if (res.status !== 200 && !(res.status === 503 && res.retryAfter !== null)) reads.push(`${res.status} ${JSON.stringify(res.body)}`)
    }))
  }
  await traffic.stopSending()
  await traffic.drain(20000)

  t.comment(`sends and polls ${JSON.stringify(Object.fromEntries(traffic.statuses))}, reads ${JSON.stringify(Object.fromEntries(readStatuses))}`)
  t.same(traffic.problems, [], 'sends and polls: 2xx or 503 with Retry-After, never 500')
  t.same(reads, [], 'reads: 200 or 503 with Retry-After')
  t.ok((traffic.statuses.get('send 503') ?? 0) + (readStatuses.get(503) ?? 0) > 0, 'the node did shed load')
  traffic.verify(t)
  const conn = await mysql.createConnection(database.databaseUrl as string)
  const [rows] = await conn.query('SELECT COUNT(*) AS n FROM messages') as unknown as [Array<{ n: number | string }>]
  await conn.end()
  t.equal(Number(rows[0]?.n), traffic.acceptedCount, 'one stored message per accepted send')
})
