import t from 'tap'
import { as, buildTestApp, register } from '../helper.js'
import { startReceiver } from './receiver.js'
import { firstOutgoing, send, sleep, until } from './helpers.js'

const env = { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_INTERVAL_MS: '100' }

t.test('a receiver that fails three times: retried after about 1, 2 and 4 s, then in order', async t => {
  const app = await buildTestApp(t, env)
  const owner = await register(app, 'owner')
  await as(app, owner, 'POST', '/api/rooms', { name: 'flaky' })
  const receiver = await startReceiver(t, n => ({ status: n < 3 ? 500 : 200 }))
  const hook = (await as(app, owner, 'POST', '/api/rooms/flaky/outgoing-webhooks', { url: receiver.url })).json()
  const first = await send(app, owner, 'flaky', 'one')
  await receiver.waitFor(1)
  const second = await send(app, owner, 'flaky', 'two')
  const failing = await until('lastError', async () => {
    const w = await firstOutgoing(app, owner, 'flaky')
    return w.lastError === null ? undefined : w
  })
  t.match(failing, { failing: false, lastError: /500/ })
  const got = await receiver.waitFor(5, 30000)
  t.same(got.map(r => r.json.event.id), [first, first, first, first, second], 'the failed event again until it succeeds; the next only after')
  const gaps = got.slice(1, 4).map((r, i) => r.at - (got[i] as { at: number }).at)
  for (const [i, gap] of gaps.entries()) t.ok(gap >= 1000 * 2 ** i - 50, `pause ${i + 1} is at least ${2 ** i} s (${gap} ms)`)
  const after = await firstOutgoing(app, owner, 'flaky')
  t.match(after, { id: hook.id, failing: false })
})

t.test('past the retry deadline: failing and paused; resume goes on from the cursor', async t => {
  const app = await buildTestApp(t, { ...env, WEBHOOK_RETRY_SECONDS: '1' })
  const owner = await register(app, 'owner')
  await as(app, owner, 'POST', '/api/rooms', { name: 'down' })
  let up = false
  const receiver = await startReceiver(t, () => ({ status: up ? 200 : 503 }))
  const hook = (await as(app, owner, 'POST', '/api/rooms/down/outgoing-webhooks', { url: receiver.url })).json()
  const id = await send(app, owner, 'down', 'lost?')
  const paused = await until('failing', async () => {
    const w = await firstOutgoing(app, owner, 'down')
    return w.failing === true ? w : undefined
  })
  t.match(paused, { failing: true, lastError: /503/ })
  const attempts = receiver.received.length
  t.ok(attempts >= 2, `retried before giving up (${attempts} attempts)`)
  await sleep(1500)
  t.equal(receiver.received.length, attempts, 'a failing webhook is paused')
  up = true
  t.equal((await as(app, owner, 'POST', `/api/rooms/down/outgoing-webhooks/${hook.id as string}/resume`)).statusCode, 204)
  const delivered = await receiver.waitFor(attempts + 1)
  t.equal(delivered[attempts]?.json.event.id, id, 'the same event, not lost')
  const w = await until('acknowledged', async () => {
    const x = await firstOutgoing(app, owner, 'down')
    return x.lastDeliveredEventId === id ? x : undefined
  })
  t.match(w, { failing: false, lastError: null })
  t.equal((await as(app, owner, 'POST', '/api/rooms/down/outgoing-webhooks/999/resume')).statusCode, 404)
})
