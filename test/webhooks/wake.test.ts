import t from 'tap'
import { as, buildTestApp, register } from '../helper.js'
import { createTestDatabase } from '../helpers/database.js'
import { startReceiver } from './receiver.js'
import { send, sleep } from './helpers.js'

// The webhook worker looks for due deliveries when a batch touches a room
// with a webhook; events in other rooms (on most sites, all of them) cost no
// such look. A hook made on this node is watched at once, one made on
// another node within an interval.

t.test('a send costs no look for due webhooks unless its room has one', async t => {
  // No interval looks during the test: every look comes from a batch.
  const app = await buildTestApp(t, { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_INTERVAL_MS: '60000' })
  const owner = await register(app, 'owner')
  await as(app, owner, 'POST', '/api/rooms', { name: 'quiet' })
  await as(app, owner, 'POST', '/api/rooms', { name: 'hooked' })
  // The look for due deliveries is the one statement that reads outgoing_webhooks with events.
  let looks = 0
  t.teardown(app.database.watchQueries(sql => { if (/from [`"]outgoing_webhooks[`"]/i.test(sql) && /exists/i.test(sql)) looks++ }))
  const looksOf = async (room: string, text: string): Promise<number> => {
    await sleep(100)
    const before = looks
    await send(app, owner, room, text)
    await sleep(200)
    return looks - before
  }
  await looksOf('quiet', 'warm-up')
  t.equal(await looksOf('quiet', 'no webhook anywhere'), 0, 'no webhook: a send costs no look')

  const receiver = await startReceiver(t, () => ({ status: 204 }))
  t.equal((await as(app, owner, 'POST', '/api/rooms/hooked/outgoing-webhooks', { url: receiver.url })).statusCode, 201)
  t.equal(await looksOf('quiet', 'a webhook elsewhere'), 0, 'a send to a room without a webhook costs no look')

  const startedAt = Date.now()
  const id = await send(app, owner, 'hooked', 'for the hook')
  const [delivered] = await receiver.waitFor(1)
  t.equal(delivered?.json.event.id, id)
  t.ok(looks > 0, 'a send to the room with the webhook looks')
  // The interval is a minute: only the batch can have started this delivery.
  t.ok(Date.now() - startedAt < 5000, `delivered at once after the hook was made here (${Date.now() - startedAt} ms)`)
})

t.test('a hook made on another node is watched within an interval', async t => {
  const database = await createTestDatabase(t)
  const env = { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_INTERVAL_MS: '200' }
  const nodeA = await buildTestApp(t, env, database)
  const nodeB = await buildTestApp(t, env, database)
  const owner = await register(nodeA, 'owner')
  await as(nodeA, owner, 'POST', '/api/rooms', { name: 'ops' })
  await send(nodeA, owner, 'ops', 'before any hook')
  const receiver = await startReceiver(t, () => ({ status: 204 }))
  t.equal((await as(nodeB, owner, 'POST', '/api/rooms/ops/outgoing-webhooks', { url: receiver.url })).statusCode, 201, 'made on node B')
  // Node B stops looking: whatever is delivered now, node A delivers.
  await nodeB.close()
  await sleep(500)
  const id = await send(nodeA, owner, 'ops', 'sent on node A')
  const [delivered] = await receiver.waitFor(1)
  t.equal(delivered?.json.event.id, id, 'node A delivers it')
})
