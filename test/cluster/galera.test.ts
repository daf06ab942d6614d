import t, { type Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connectDatabase, inTransaction, lockEventCounter } from '../../src/db/connect.js'
import { migrate } from '../../src/db/migrate.js'
import { call, setupRoom, sleep, Traffic } from '../helpers/chat-traffic.js'
import { createTestDatabase, usingMariaDb, type TestDatabase } from '../helpers/database.js'
import { galeraMissing, startGaleraCluster } from '../helpers/galera.js'
import { nodeEnv, startServerProcess, type ServerProcess } from '../helpers/server-process.js'

/*
 * The product on a real 3-node MariaDB Galera cluster (test/helpers/galera.sh):
 * two Galera nodes racing on the event counter row (one loses at commit with
 * 1213, the retry lands), then two app nodes × 4 senders × 3 pollers with
 * writes through one Galera node, through two, and through two while one of
 * them is killed: every accepted message reaches every poller exactly once, in
 * one order. Each phase prints its figures (sends/s, delivery p99, lost,
 * doubled) next to the same traffic on the one shared MariaDB server (run
 * while the cluster starts; on a busy machine all of them are rough).
 * GALERA_SECONDS sets each phase's length (15 s by default, to stay within
 * CI's time; the long run is GALERA_SECONDS=60).
 */

t.setTimeout(600000)

const seconds = Number(process.env.GALERA_SECONDS ?? 15)
const skip = !usingMariaDb()
  ? 'MariaDB only: set TEST_DATABASE_URL (the SQLite run has no cluster)'
  : galeraMissing()

interface Figures { sendsPerSecond: number, p99: number, lost: number, doubled: number }

function figures (traffic: Traffic, elapsedMs: number): Figures {
  const accepted = new Set(traffic.accepted.flat())
  const lost = traffic.received.reduce((n, got) => n + [...accepted].filter(m => !got.includes(m)).length, 0)
  const doubled = traffic.received.reduce((n, got) => n + got.length - new Set(got).size, 0)
  const sorted = [...traffic.deliveryMs].sort((a, b) => a - b)
  const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? NaN
  return { sendsPerSecond: Math.round(traffic.acceptedCount / (elapsedMs / 1000)), p99, lost, doubled }
}

/**
 * Four senders and three pollers over the app nodes for `seconds`; `during`
 * runs half way through (a fault). Checks and prints the figures.
 */
async function phase (
  t: Test, name: string, urls: string[], tokens: string[], tag: string, during?: () => Promise<void>
): Promise<Figures> {
  const traffic = new Traffic({ urls, senderTokens: tokens.slice(0, 4), pollerTokens: tokens.slice(4, 7), pollTimeout: 2, retryPauseMs: 100, tag })
  await traffic.startPollers()
  const started = Date.now()
  traffic.startSenders()
  await sleep(seconds * 500)
  if (during !== undefined) await during()
  await sleep(seconds * 500)
  await traffic.stopSending()
  const elapsed = Date.now() - started
  await traffic.drain(30000)
  traffic.verify(t)
  t.same(traffic.problems, [], `${name}: no answer but success, 503 with Retry-After or a network error`)
  const result = figures(traffic, elapsed)
  const statuses = [...traffic.statuses].map(([k, v]) => `${k}: ${v}`).join(', ')
  t.comment(`${name}: ${traffic.acceptedCount} messages in ${(elapsed / 1000).toFixed(1)} s = ${result.sendsPerSecond} sends/s, ` +
    `delivery p99 ${result.p99} ms, lost ${result.lost}, doubled ${result.doubled} (${statuses})`)
  return result
}

/**
 * App nodes; the first starts alone and migrates the database: migrations take
 * a named lock, and Galera does not replicate those.
 */
async function appNodes (t: Test, databases: TestDatabase[]): Promise<ServerProcess[]> {
  // A loaded 2-core machine running three extra database servers starts them slowly.
  const start = async (database: TestDatabase): Promise<ServerProcess> =>
    await startServerProcess(t, nodeEnv(database, { LOG_LEVEL: 'error' }), { timeoutMs: 120000 })
  const [first, ...rest] = databases
  if (first === undefined) return []
  const nodes = [await start(first), ...await Promise.all(rest.map(start))]
  // Their errors (LOG_LEVEL=error) say why a send got a 500.
  t.teardown(() => { if (t.passing() === false) t.comment(nodes.map((n, i) => `app node ${i}:\n${n.output()}`).join('\n')) })
  return nodes
}

// The cluster's start is mostly the snapshot scripts waiting: the baseline runs meanwhile.
const starting = skip === false ? startGaleraCluster(t) : null
starting?.catch(() => {})

t.test('one MariaDB server: the figures to compare with', { skip }, async t => {
  const database = await createTestDatabase(t)
  const nodes = await appNodes(t, [database, database])
  const urls = nodes.map(n => n.url)
  await phase(t, 'one MariaDB server', urls, await setupRoom(urls, 7), 'one-')
})

t.test('on a 3-node Galera cluster', { skip }, async t => {
  const cluster = await (starting as ReturnType<typeof startGaleraCluster>)
  t.comment(await cluster.status())
  const dataDir = mkdtempSync(join(tmpdir(), 'chat-galera-app-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))

  await t.test('two Galera nodes updating the event counter at once: one loses at commit with 1213, and the retry lands', async t => {
    await cluster.createDatabase('race')
    const viaNode2 = connectDatabase({ databaseUrl: cluster.url('race', [2]), dataDir, poolSize: 2, queueLimit: 10 })
    t.teardown(async () => { await viaNode2.close() })
    await migrate(viaNode2.db, 'mysql')
    const node1 = await cluster.connect(1, 'race')
    const node2 = await cluster.connect(2, 'race')
    t.teardown(async () => { await node1.end(); await node2.end() })

    // By hand first: the row lock node 2 holds means nothing to node 1.
    await node2.query('BEGIN')
    await node2.query('SELECT last_id FROM event_seq WHERE id = 1 FOR UPDATE')
    await node1.query('UPDATE event_seq SET last_id = last_id + 1 WHERE id = 1')
    const lost = await (async () => {
      await node2.query('UPDATE event_seq SET last_id = last_id + 1 WHERE id = 1')
      await node2.query('COMMIT')
    })().catch((err: { errno?: number }) => err)
    t.equal((lost as { errno?: number } | undefined)?.errno, 1213, 'the transaction on node 2 fails with 1213 (deadlock)')
    await node2.query('ROLLBACK').catch(() => {})

    // The product's own transaction, losing the same race once, is run again.
    let runs = 0
    await inTransaction(viaNode2, async trx => {
      runs++
      const last = await lockEventCounter(trx, 'mysql')
      if (runs === 1) await node1.query('UPDATE event_seq SET last_id = last_id + 1 WHERE id = 1')
      await trx.updateTable('event_seq').set({ last_id: last + 1 }).where('id', '=', 1).execute()
    })
    // A second run on node 2 may still read the counter before node 1's
    // update is applied there; certification then fails it too, and it runs again.
    t.ok(runs >= 2, `inTransaction ran it again (${runs} runs)`)
    // Reads on node 1 wait until it has applied everything committed before.
    await node1.query('SET SESSION wsrep_sync_wait = 1')
    const [rows] = await node1.query('SELECT last_id FROM event_seq WHERE id = 1')
    t.equal(Number((rows as Array<{ last_id: string }>)[0]?.last_id), 3, 'the three committed increments landed, the lost ones not at all')
  })

  await cluster.createDatabase('chat')
  const through = (...order: number[]): TestDatabase => ({ databaseUrl: cluster.url('chat', order), dataDir })

  // Three app nodes: A and B write through Galera node 1 (A and B each list it
  // first), C through node 2. A and C: transactions on the counter row from two
  // Galera nodes, certified against each other.
  const [a, b, c] = (await appNodes(t, [through(1, 2, 3), through(1, 2, 3), through(2, 3, 1)])).map(n => n.url) as [string, string, string]
  const tokens = await setupRoom([a, b, c], 7)

  await t.test('writes through one Galera node', async t => {
    await phase(t, 'Galera, writes through one node', [a, b], tokens, 'one-')
  })

  await t.test('writes through two Galera nodes', async t => {
    await phase(t, 'Galera, writes through two nodes', [a, c], tokens, 'two-')
  })

  await t.test('Galera node 1 killed mid-run: app node A fails over to node 2, nothing lost or doubled', async t => {
    await phase(t, 'Galera, node 1 killed mid-run', [a, c], tokens, 'kill-', async () => {
      await cluster.kill(1)
      t.comment(`node 1 killed at ${new Date().toISOString()}`)
    })
    t.match(await cluster.status(), /node 1: not running/)
    // A's pool listed node 1 first; it now writes through node 2 (the PoolCluster
    // skips a failed host, and a pool error answers 503 for the client to retry).
    let sent = await call(a, '/api/rooms/load/messages', { method: 'POST', token: tokens[0], body: { text: 'after the kill', clientId: 'after-kill' } })
    for (let i = 0; sent.status === 503 && i < 20; i++) {
      await sleep(250)
      sent = await call(a, '/api/rooms/load/messages', { method: 'POST', token: tokens[0], body: { text: 'after the kill', clientId: 'after-kill' } })
    }
    t.equal(sent.status, 201, 'app node A still takes sends, through Galera node 2')
  })
})
