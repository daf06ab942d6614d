import t, { type Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import { mariadbServerBinary, startPrivateMariaDb } from '../helpers/private-mariadb.js'
import { call, setupRoom, sleep, Traffic } from '../helpers/chat-traffic.js'
import { usingMariaDb } from '../helpers/database.js'
import { twoNodes } from '../helpers/two-nodes.js'

/*
 * The database goes away under load and comes back (a MariaDB restart, then a
 * crash with InnoDB recovery): two app nodes keep answering (sends 503 with Retry-After, health 503, held polls at
 * their timeout), recover without a restart of their own, and every message
 * they accepted reaches every member exactly once, in order. The database is a
 * private server this test may stop; the shared one serves the other files.
 */

const skip = !usingMariaDb()
  ? 'MariaDB only: set TEST_DATABASE_URL (the SQLite run has no server to lose)'
  : mariadbServerBinary() === null ? 'the MariaDB server binary (mariadbd) is not installed' : false

t.test('database outage: 503 while away, nothing lost or doubled when it returns', { skip }, async t => {
  const mariadb = await startPrivateMariaDb(t)
  const databaseUrl = await mariadb.createDatabase('chat')
  const dataDir = mkdtempSync(join(tmpdir(), 'chat-outage-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const nodes = await twoNodes(t, { databaseUrl, dataDir }, { LOG_LEVEL: 'error' })
  const urls = nodes.map(n => n.url)
  const tokens = await setupRoom(urls, 8)
  // A member of a room nobody writes in: its polls can only end at their timeout.
  const quiet = tokens[7] as string
  t.equal((await call(urls[0] as string, '/api/rooms', { method: 'POST', token: quiet, body: { name: 'quiet' } })).status, 201)
  await call(urls[0] as string, '/api/rooms/load/leave', { method: 'POST', token: quiet })

  const traffic = new Traffic({ urls, senderTokens: tokens.slice(0, 4), pollerTokens: tokens.slice(4, 7), pollTimeout: 2, sendPauseMs: 20 })
  await traffic.startPollers()
  traffic.startSenders()
  await sleep(1500)

  const outage = async (t: Test, how: 'stop' | 'crash'): Promise<void> => {
    // Polls held when the database goes away, one per node.
    const heads = await Promise.all(urls.map(async url => (await call(url, '/api/poll', { token: quiet })).body.cursor as string))
    const held = urls.map(async (url, i) => {
      const started = Date.now()
      const res = await call(url, `/api/poll?cursor=${heads[i] as string}&timeout=4`, { token: quiet })
      return { res, ms: Date.now() - started }
    })
    await sleep(300)
    const acceptedBefore = traffic.acceptedCount
    if (how === 'stop') await mariadb.stop()
    else await mariadb.crash()
    const outageStarted = Date.now()

    for (const url of urls) {
      const health = await call(url, '/api/health')
      t.equal(health.status, 503, 'health says unavailable')
      const send = await call(url, '/api/rooms/load/messages', { method: 'POST', token: tokens[0], body: { text: 'during the outage', clientId: `outage-${how}` } })
      t.equal(send.status, 503, 'a send is refused with 503')
      t.equal(send.body?.error?.code, 'unavailable')
      t.match(send.retryAfter, /^\d+$/, 'with Retry-After')
    }
    for (const [i, p] of held.entries()) {
      const { res, ms } = await p
      t.equal(res.status, 200, `node ${i}: the held poll answers normally`)
      t.same(res.body.events, [], 'with nothing')
      t.ok(ms >= 3500 && ms < 6000, `at its timeout (${ms} ms)`)
    }
    // Let the outage last a while longer, with the clients retrying throughout.
    await sleep(Math.max(0, 4000 - (Date.now() - outageStarted)))
    const acceptedDuring = traffic.acceptedCount
    await mariadb.start()
    const restartedAt = Date.now()

    // The nodes come back by themselves: health first, then sends go through again.
    for (const url of urls) {
      let status = 0
      while (Date.now() - restartedAt < 15000) {
        status = (await call(url, '/api/health')).status
        if (status === 200) break
        await sleep(100)
      }
      t.equal(status, 200, `health recovers (${Date.now() - restartedAt} ms)`)
    }
    const deadline = Date.now() + 15000
    while (traffic.acceptedCount < acceptedDuring + 20 && Date.now() < deadline) await sleep(100)
    t.ok(traffic.acceptedCount >= acceptedDuring + 20, `sends are accepted again (${acceptedBefore} before, ${acceptedDuring} during, ${traffic.acceptedCount} after)`)
  }

  await t.test('MariaDB stopped and started again', async t => { await outage(t, 'stop') })
  await t.test('MariaDB killed (crash recovery) and started again', async t => { await outage(t, 'crash') })

  await traffic.stopSending()
  await traffic.drain(20000)
  t.same(traffic.problems, [], 'only successes, 503 with Retry-After, or network errors')
  t.ok((traffic.statuses.get('send 503') ?? 0) > 0, 'senders met the outage')
  traffic.verify(t)

  // Nothing half-stored: one message row and one event per accepted message.
  const conn = await mysql.createConnection(databaseUrl)
  const count = async (query: string): Promise<number> => {
    const [rows] = await conn.query(query) as unknown as [Array<{ n: number | string }>]
    return Number(rows[0]?.n)
  }
  const messages = await count('SELECT COUNT(*) AS n FROM messages')
  const events = await count("SELECT COUNT(*) AS n FROM events WHERE type = 'message'")
  await conn.end()
  t.equal(messages, traffic.acceptedCount, 'one stored message per accepted send')
  t.equal(events, traffic.acceptedCount, 'one message event per accepted send')
  t.comment(JSON.stringify(Object.fromEntries(traffic.statuses)))
})
