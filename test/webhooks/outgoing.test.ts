import t from 'tap'
import { createHmac } from 'node:crypto'
import { as, buildTestApp, register } from '../helper.js'
import { startReceiver } from './receiver.js'
import { send, sleep, until } from './helpers.js'

const env = { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_INTERVAL_MS: '100' }

t.test('deliveries: signed, in stream order, as the poll gives them; a bot replies; delete stops them', async t => {
  const app = await buildTestApp(t, env)
  const owner = await register(app, 'owner')
  const bob = await register(app, 'bob')
  const roomId = (await as(app, owner, 'POST', '/api/rooms', { name: 'ops' })).json().room.id as string
  await as(app, bob, 'POST', '/api/rooms/ops/join')
  const receiver = await startReceiver(t, (_n, r) => r.json.event.text === 'ping' ? { status: 200, body: JSON.stringify({ text: 'pong' }) } : { status: 204 })
  const made = await as(app, owner, 'POST', '/api/rooms/ops/outgoing-webhooks', { url: receiver.url })
  t.equal(made.statusCode, 201)
  const hook = made.json()
  t.same(hook.events, ['message'], 'events default to message')
  t.match(hook.secret, /^whsec_/)
  t.equal((await as(app, bob, 'POST', '/api/rooms/ops/outgoing-webhooks', { url: receiver.url })).statusCode, 403, 'members may not')

  const head = (await as(app, bob, 'GET', '/api/poll')).json().cursor as string
  const ids: string[] = []
  for (let i = 0; i < 5; i++) ids.push(await send(app, i % 2 === 0 ? owner : bob, 'ops', `m${i}`))
  const got = await receiver.waitFor(5)
  t.same(got.map(r => r.json.event.id), ids, 'every event once, in stream order')
  const polled = (await as(app, bob, 'GET', `/api/poll?cursor=${head}&timeout=1`)).json().events
  for (const [i, r] of got.entries()) {
    t.equal(r.headers['content-type'], 'application/json')
    t.equal(r.headers['x-chat-event'], ids[i])
    const expected = `sha256=${createHmac('sha256', hook.secret as string).update(r.body).digest('hex')}`
    t.equal(r.headers['x-chat-signature'], expected, 'HMAC-SHA256 of the body with the secret')
    t.same(r.json.room, { id: roomId, name: 'ops' })
    t.same(r.json.event, polled[i], 'the event as the poll gives it')
  }

  await send(app, bob, 'ops', 'ping')
  const reply = await until('the bot reply', async () => {
    const events = (await as(app, bob, 'GET', '/api/rooms/ops/messages')).json().events as Array<{ text: string, user: { bot?: boolean, displayName: string } }>
    return events.find(e => e.text === 'pong')
  })
  t.match(reply.user, { bot: true, displayName: '127.0.0.1' })
  await sleep(500)
  t.equal(receiver.received.filter(r => r.json.event.text === 'pong').length, 0, 'a bot is not sent its own reply')
  const listed = await until('the cursor to reach the reply', async () => {
    const list = (await as(app, owner, 'GET', '/api/rooms/ops/outgoing-webhooks')).json().webhooks
    return Number(list[0].lastDeliveredEventId) > Number(ids[4]) ? list : undefined
  })
  t.match(listed, [{ id: hook.id, url: receiver.url, events: ['message'], failing: false, lastError: null }])
  t.notOk(JSON.stringify(listed).includes(hook.secret), 'the secret is shown once')

  t.equal((await as(app, owner, 'DELETE', `/api/rooms/ops/outgoing-webhooks/${hook.id as string}`)).statusCode, 204)
  const count = receiver.received.length
  await send(app, bob, 'ops', 'after delete')
  await sleep(800)
  t.equal(receiver.received.length, count, 'nothing is delivered after a delete')
  t.equal((await as(app, owner, 'DELETE', `/api/rooms/ops/outgoing-webhooks/${hook.id as string}`)).statusCode, 404)
})

t.test('subscribed types only; bad input is 400; ten per room', async t => {
  const app = await buildTestApp(t, env)
  const owner = await register(app, 'owner')
  const bob = await register(app, 'bob')
  await as(app, owner, 'POST', '/api/rooms', { name: 'lobby' })
  const receiver = await startReceiver(t)
  const made = await as(app, owner, 'POST', '/api/rooms/lobby/outgoing-webhooks', { url: receiver.url, events: ['member.joined', 'member.left'] })
  t.equal(made.statusCode, 201)
  await send(app, owner, 'lobby', 'not subscribed')
  await as(app, bob, 'POST', '/api/rooms/lobby/join')
  await as(app, bob, 'POST', '/api/rooms/lobby/leave')
  const got = await receiver.waitFor(2)
  t.same(got.map(r => [r.json.event.type, r.json.event.user.username]), [['member.joined', 'bob'], ['member.left', 'bob']])
  for (const body of [{ url: 'ftp://example.com/' }, { url: 'not a url' }, { url: receiver.url, events: ['typing'] }, { url: receiver.url, events: [] }, { url: 42 }]) {
    const res = await as(app, owner, 'POST', '/api/rooms/lobby/outgoing-webhooks', body)
    t.equal(res.statusCode, 400, JSON.stringify(body))
  }
  for (let i = 1; i < 10; i++) t.equal((await as(app, owner, 'POST', '/api/rooms/lobby/outgoing-webhooks', { url: receiver.url })).statusCode, 201)
  t.equal((await as(app, owner, 'POST', '/api/rooms/lobby/outgoing-webhooks', { url: receiver.url })).statusCode, 403)
})

t.test('one slow receiver does not hold up another', async t => {
  const app = await buildTestApp(t, env)
  const owner = await register(app, 'owner')
  await as(app, owner, 'POST', '/api/rooms', { name: 'mixed' })
  const slow = await startReceiver(t, () => ({ status: 200, delayMs: 4000 }))
  const fast = await startReceiver(t)
  await as(app, owner, 'POST', '/api/rooms/mixed/outgoing-webhooks', { url: slow.url })
  await as(app, owner, 'POST', '/api/rooms/mixed/outgoing-webhooks', { url: fast.url })
  for (let i = 0; i < 3; i++) await send(app, owner, 'mixed', `n${i}`)
  await fast.waitFor(3)
  t.ok(slow.received.length <= 1, `the fast receiver had all three while the slow one still held its first (${slow.received.length})`)
})
