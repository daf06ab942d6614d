import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { as, buildTestApp, register, type Session } from '../helper.js'
import { isPublicAddress } from '../../src/webhooks/address-check.js'
import { startReceiver } from './receiver.js'
import { firstOutgoing, until } from './helpers.js'

async function lastErrorOf (app: FastifyInstance, who: Session, room: string): Promise<string> {
  return await until('lastError', async () => (await firstOutgoing(app, who, room)).lastError ?? undefined, 15000)
}

t.test('address classes', async t => {
  for (const a of ['127.0.0.1', '127.8.9.10', '10.0.0.1', '172.16.5.4', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fd00::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:a00:1']) {
    t.equal(isPublicAddress(a), false, a)
  }
  for (const a of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) t.equal(isPublicAddress(a), true, a)
})

t.test('without WEBHOOK_ALLOW_PRIVATE: private URLs refused when saved, and again when connecting', async t => {
  const app = await buildTestApp(t, { WEBHOOK_INTERVAL_MS: '100' })
  const owner = await register(app, 'owner')
  await as(app, owner, 'POST', '/api/rooms', { name: 'safe' })
  for (const url of ['http://127.0.0.1/', 'http://localhost:8080/x', 'http://[::1]/', 'http://10.1.2.3/', 'http://192.168.0.10/',
    'http://172.16.0.1/', 'http://169.254.169.254/latest/meta-data/', 'http://[::ffff:127.0.0.1]/', 'http://[fe80::1]/',
    'http://224.0.0.1/', 'http://0.0.0.0/', 'http://2130706433/', 'http://0x7f.1/', 'https://user:pw@example.com/']) {
    const res = await as(app, owner, 'POST', '/api/rooms/safe/outgoing-webhooks', { url })
    t.equal(res.statusCode, 400, url)
    t.equal(res.json().error.code, 'invalid')
    t.type(res.json().error.fields.url, 'string', `${url}: ${JSON.stringify(res.json().error.fields)}`)
  }
  t.equal((await as(app, owner, 'POST', '/api/rooms/safe/outgoing-webhooks', { url: 'http://93.184.216.34/hook' })).statusCode, 201, 'a public address is accepted')

  // What DNS may do after the check: the saved host now leads to loopback.
  const receiver = await startReceiver(t)
  const port = new URL(receiver.url).port
  for (const [room, url] of [['renamed', `http://localhost:${port}/hook`], ['literal', `http://127.0.0.1:${port}/hook`]] as const) {
    await as(app, owner, 'POST', '/api/rooms', { name: room })
    const hook = (await as(app, owner, 'POST', `/api/rooms/${room}/outgoing-webhooks`, { url: 'http://93.184.216.34/hook' })).json()
    await app.database.db.updateTable('outgoing_webhooks').set({ url }).where('id', '=', hook.id).execute()
    await as(app, owner, 'POST', `/api/rooms/${room}/messages`, { text: 'hello?' })
    t.match(await lastErrorOf(app, owner, room), /loopback, private/, `${url} refused when connecting`)
  }
  t.equal(receiver.received.length, 0, 'nothing reached the loopback receiver')
})

t.test('redirects are not followed; an answer over 64 KiB is not read', async t => {
  const app = await buildTestApp(t, { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_INTERVAL_MS: '100' })
  const owner = await register(app, 'owner')
  const target = await startReceiver(t)
  const redirecting = await startReceiver(t, () => ({ status: 307, body: '' }))
  await as(app, owner, 'POST', '/api/rooms', { name: 'redirect' })
  await as(app, owner, 'POST', '/api/rooms/redirect/outgoing-webhooks', { url: `${redirecting.url}?to=${encodeURIComponent(target.url)}` })
  await as(app, owner, 'POST', '/api/rooms/redirect/messages', { text: 'follow me' })
  t.match(await lastErrorOf(app, owner, 'redirect'), /307 \(redirects are not followed\)/)
  t.equal(target.received.length, 0)

  const big = await startReceiver(t, () => ({ status: 200, body: JSON.stringify({ text: 'huge reply', pad: 'x'.repeat(100 * 1024) }) }))
  await as(app, owner, 'POST', '/api/rooms', { name: 'big' })
  await as(app, owner, 'POST', '/api/rooms/big/outgoing-webhooks', { url: big.url })
  const sent = (await as(app, owner, 'POST', '/api/rooms/big/messages', { text: 'answer at length' })).json().event.id
  await big.waitFor(1)
  await until('acknowledged', async () => (await firstOutgoing(app, owner, 'big')).lastDeliveredEventId === sent ? true : undefined)
  const texts = (await as(app, owner, 'GET', '/api/rooms/big/messages')).json().events.map((e: { text: string }) => e.text)
  t.same(texts, ['answer at length'], 'a 2xx acknowledges, but its oversized body posts nothing')
})
