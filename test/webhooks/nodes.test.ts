import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { as, register, testConfig, type Session } from '../helper.js'
import { startReceiver, type Receiver } from './receiver.js'
import { send as sendTo } from './helpers.js'

/*
 * Deliveries survive a node going away and are shared by several nodes: app
 * instances on one database, as in test/poll/two-nodes.test.ts.
 */
const env = { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_INTERVAL_MS: '100' }

async function node (t: { teardown: (fn: () => unknown) => void }, database: TestDatabase): Promise<FastifyInstance> {
  const app = await buildApp(testConfig(database, env))
  t.teardown(async () => { await app.close() })
  await app.ready()
  return app
}

const send = async (app: FastifyInstance, who: Session, text: string): Promise<string> => await sendTo(app, who, 'feed', text)

/** The ids as first received: at least once, so repeats are allowed, but never out of order. */
function firstSeen (receiver: Receiver): string[] {
  const seen = new Set<string>()
  for (const r of receiver.received) seen.add(r.json.event.id)
  return [...seen]
}

function inStreamOrder (receiver: Receiver): boolean {
  const ids = receiver.received.map(r => Number(r.json.event.id))
  // A repeat may only be of the newest event so far (delivered again after a node stopped before acknowledging).
  return ids.every((id, i) => i === 0 || id >= (ids[i - 1] as number) || ids.slice(0, i).includes(id))
}

async function allDelivered (receiver: Receiver, ids: string[], timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!ids.every(id => firstSeen(receiver).includes(id))) {
    if (Date.now() > deadline) throw new Error(`delivered ${firstSeen(receiver).length} of ${ids.length}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

t.test('a node stops mid-stream: the next one goes on from the cursor', async t => {
  const database = await createTestDatabase(t)
  const receiver = await startReceiver(t, () => ({ status: 200, delayMs: 30 }))
  const first = await node(t, database)
  const owner = await register(first, 'owner')
  await as(first, owner, 'POST', '/api/rooms', { name: 'feed' })
  await as(first, owner, 'POST', '/api/rooms/feed/outgoing-webhooks', { url: receiver.url })
  const ids: string[] = []
  for (let i = 0; i < 30; i++) ids.push(await send(first, owner, `before ${i}`))
  await receiver.waitFor(3)
  await first.close()
  const cut = firstSeen(receiver).length
  t.ok(cut < ids.length, `the first node stopped part way (${cut} of ${ids.length})`)
  const second = await node(t, database)
  for (let i = 0; i < 10; i++) ids.push(await send(second, owner, `after ${i}`))
  await allDelivered(receiver, ids)
  t.same(firstSeen(receiver), ids, 'every event, none skipped, in stream order')
  t.ok(inStreamOrder(receiver), 'never out of order')
})

t.test('two nodes: one delivers each webhook at a time; every event arrives, in order', async t => {
  const database = await createTestDatabase(t)
  const nodes = [await node(t, database), await node(t, database)] as const
  const receivers = [await startReceiver(t), await startReceiver(t, () => ({ status: 200, delayMs: 20 }))]
  const owner = await register(nodes[0], 'owner')
  await as(nodes[0], owner, 'POST', '/api/rooms', { name: 'feed' })
  for (const r of receivers) await as(nodes[1], owner, 'POST', '/api/rooms/feed/outgoing-webhooks', { url: r.url })
  const ids = await Promise.all(Array.from({ length: 40 }, async (_, i) => await send(nodes[i % 2] as FastifyInstance, owner, `m${i}`)))
  ids.sort((a, b) => Number(a) - Number(b))
  for (const r of receivers) {
    await allDelivered(r, ids)
    t.same(firstSeen(r), ids, 'every event, none skipped, in stream order')
    t.ok(inStreamOrder(r), 'never out of order')
    t.equal(r.received.length, ids.length, 'with both nodes up, each event once')
  }
})

t.test('a lease held by a node that died is taken over once it expires', async t => {
  const database = await createTestDatabase(t)
  const app = await node(t, database)
  const receiver = await startReceiver(t)
  const owner = await register(app, 'owner')
  await as(app, owner, 'POST', '/api/rooms', { name: 'feed' })
  const hook = (await as(app, owner, 'POST', '/api/rooms/feed/outgoing-webhooks', { url: receiver.url })).json()
  const expiresAt = Date.now() + 2000
  await app.database.db.updateTable('webhook_leases').set({ holder: 'a-node-that-died', expires_at: expiresAt }).where('webhook_id', '=', hook.id).execute()
  const id = await send(app, owner, 'waiting for the lease')
  const [got] = await receiver.waitFor(1)
  t.equal(got?.json.event.id, id)
  t.ok((got?.at ?? 0) >= expiresAt, 'not delivered while the dead node\'s lease was valid')
})
