import t from 'tap'
import { startChatNode, type ServerProcess } from '../helpers/server-process.js'
import { twoNodes } from '../helpers/two-nodes.js'
import { createTestDatabase, usingMariaDb } from '../helpers/database.js'
import { call, setupRoom, sleep, Traffic } from '../helpers/chat-traffic.js'

/*
 * Deploys and crashes under traffic. Two nodes share one MariaDB database;
 * senders and pollers spread over both and move to the other node on errors,
 * as the web client does. One node gets SIGTERM (a deploy): it must answer its
 * held polls at once and exit well within SHUTDOWN_TIMEOUT_MS. Later the other
 * is killed with SIGKILL (a crash). Each comes back on its port, and in the end
 * every accepted message has reached every poller exactly once, in order.
 */

const skip = usingMariaDb() ? false : 'MariaDB only: two nodes need a shared database server (set TEST_DATABASE_URL)'
const shutdownTimeoutMs = 5000

t.test('SIGTERM and SIGKILL of a node under traffic: nothing lost or doubled', { skip }, async t => {
  const database = await createTestDatabase(t)
  const env = {
    SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs),
    LOG_LEVEL: 'error'
  }
  const nodes: ServerProcess[] = await twoNodes(t, database, env)
  const urls = nodes.map(n => n.url)
  const tokens = await setupRoom(urls, 9)
  // A member of a room nobody writes in: its polls stay held until something ends them.
  const quiet = tokens[8] as string
  t.equal((await call(urls[0] as string, '/api/rooms', { method: 'POST', token: quiet, body: { name: 'quiet' } })).status, 201)
  await call(urls[0] as string, '/api/rooms/load/leave', { method: 'POST', token: quiet })
  const traffic = new Traffic({ urls, senderTokens: tokens.slice(0, 4), pollerTokens: tokens.slice(4, 8), pollTimeout: 3, sendPauseMs: 20 })
  await traffic.startPollers()
  traffic.startSenders()
  await sleep(1500)

  await t.test('SIGTERM: held polls answered, prompt exit', async t => {
    const node = nodes[0] as ServerProcess
    const head = (await call(node.url, '/api/poll', { token: quiet })).body.cursor as string
    const held = [0, 1, 2].map(async () => {
      try {
        return { res: await call(node.url, `/api/poll?cursor=${head}&timeout=20`, { token: quiet }), at: Date.now() }
      } catch (err) {
        return { res: null, err, at: Date.now() }
      }
    })
    await sleep(300)
    const now = Date.now()
    const code = await node.stop()
    const ms = Date.now() - now
    t.equal(code, 0, 'exits cleanly, not by the shutdown timer')
    // Not a speed check: under the shutdown timer means it did not wait out the held polls (25 s).
    t.ok(ms < shutdownTimeoutMs, `exits before the shutdown timer (${ms} ms, SHUTDOWN_TIMEOUT_MS is ${shutdownTimeoutMs})`)
    for (const { res, at } of await Promise.all(held)) {
      t.equal(res?.status, 200, 'a held poll is answered, not reset')
      t.same(res?.body.events, [], 'with nothing, so the client polls again elsewhere')
      t.equal(res?.body.cursor, head, 'from the same cursor')
      t.ok(at - now < 2000, `at once (${at - now} ms)`)
    }
  })
  await sleep(1000)
  nodes[0] = await startChatNode(t, database, env, { port: nodes[0]?.port })
  await sleep(1500)

  await t.test('SIGKILL: the clients carry on elsewhere', async t => {
    const accepted = traffic.acceptedCount
    await nodes[1]?.kill()
    await sleep(1500)
    t.ok(traffic.acceptedCount > accepted, 'sends go on through the other node')
  })
  nodes[1] = await startChatNode(t, database, env, { port: nodes[1]?.port })
  await sleep(1500)

  await traffic.stopSending()
  const drainStarted = Date.now()
  await traffic.drain(20000)
  t.comment(`drained in ${Date.now() - drainStarted} ms`)
  t.same(traffic.problems, [], 'only successes, 503 with Retry-After, or network errors')
  traffic.verify(t)
  t.comment(JSON.stringify(Object.fromEntries(traffic.statuses)))
})
