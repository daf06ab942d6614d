import t from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { as, buildTestApp, register } from '../helper.js'
import { createTestDatabase } from '../helpers/database.js'
import { SendBatcher } from '../../src/messages/send-batcher.js'
import { loggableError } from '../../src/db/errors.js'

/*
 * Client ids are compared byte for byte by the database as by the server, and
 * one sender's clash never fails the other sends of its group commit. (On
 * MariaDB `A` after `a` used to hit the case-blind unique key and roll back the
 * whole batch.)
 */

t.test('client ids: exact, and one sender never fails the batch', async t => {
  const app = await buildTestApp(t)
  const mallory = await register(app, 'mallory')
  const others = await Promise.all(['ann', 'ben', 'cat', 'dan'].map(async n => await register(app, n)))
  const room = (await as(app, mallory, 'POST', '/api/rooms', { name: 'hall' })).json().room
  const first = await as(app, mallory, 'POST', '/api/rooms/hall/messages', { text: 'lower', clientId: 'a' })
  t.equal(first.statusCode, 201)

  // The app's own batcher takes whatever arrives together; this one gets the
  // same database and log, and a batch built on purpose: a warm-up send starts
  // a flush, and everything queued meanwhile goes into the next transaction.
  const batcher = new SendBatcher(app.eventLog)
  const roomId = Number(room.id)
  const warm = batcher.send({ roomId, user: mallory.user, text: 'warm-up', clientId: null })
  const clash = batcher.send({ roomId, user: mallory.user, text: 'upper', clientId: 'A' })
  const bystanders = others.map(async o => await batcher.send({ roomId, user: o.user, text: `from ${o.user.username}`, clientId: 'a' }))
  const settled = await Promise.allSettled([warm, clash, ...bystanders])
  t.same(settled.map(s => s.status), settled.map(() => 'fulfilled'), 'every send of the batch succeeded')
  const [, upper, ...rest] = settled.map(s => s.status === 'fulfilled' ? s.value : null)
  t.equal(upper?.created, true, '`A` is a new client id, not a repeat of `a`')
  t.not(JSON.parse(upper?.json ?? '{}').id, first.json().event.id)
  for (const r of rest) t.equal(r?.created, true, 'the other users\' sends are stored')

  const again = await as(app, mallory, 'POST', '/api/rooms/hall/messages', { text: 'lower again', clientId: 'a' })
  t.equal(again.statusCode, 200, 'a real repeat still answers with the first event')
  t.equal(again.json().event.id, first.json().event.id)
  const texts = (await app.database.db.selectFrom('messages').select('text').where('user_id', '=', Number(mallory.user.id)).orderBy('id').execute()).map((r: { text: string }) => r.text)
  t.same(texts, ['lower', 'warm-up', 'upper'])
})

t.test('a retry racing its first attempt on another node: one message, both answers name it', async t => {
  const database = await createTestDatabase(t)
  const [one, two] = [await buildTestApp(t, {}, database), await buildTestApp(t, {}, database)]
  const alice = await register(one, 'alice')
  const bob = await register(one, 'bob')
  await as(one, alice, 'POST', '/api/rooms', { name: 'hall' })
  await as(one, bob, 'POST', '/api/rooms/hall/join')
  // Each pair goes to both nodes at once, so the two nodes' batches overlap:
  // on MySQL each looks up client ids before it takes the counter lock, and
  // the later one meets the earlier one's row. Pairs one after another make
  // batches of one send; then batches of many, with another user's sends in
  // them, which a clash must not fail.
  const pairs = Array.from({ length: 40 }, (_, i) => `retry-${i}`)
  const attempt = async (clientId: string): Promise<LightMyRequestResponse[]> => await Promise.all([one, two].map(async app =>
    await as(app, alice, 'POST', '/api/rooms/hall/messages', { text: `attempt of ${clientId}`, clientId })))
  const answers: LightMyRequestResponse[][] = []
  for (const clientId of pairs.slice(0, 20)) answers.push(await attempt(clientId))
  const [together, bystanders] = await Promise.all([
    Promise.all(pairs.slice(20).map(attempt)),
    Promise.all([one, two, one, two].map(async (app, i) => await as(app, bob, 'POST', '/api/rooms/hall/messages', { text: `bob ${i}` })))
  ])
  answers.push(...together)
  t.same(bystanders.map(r => r.statusCode), [201, 201, 201, 201], 'other sends are stored')
  const statuses = answers.map(pair => pair.map(r => r.statusCode).sort().join(' '))
  t.same(statuses, pairs.map(() => '200 201'), 'each pair: one stored (201), one repeat (200)')
  const named = answers.map(pair => new Set(pair.map(r => r.json().event?.id)).size)
  t.same(named, pairs.map(() => 1), 'both answers of a pair name the same event')
  const stored = await one.database.db.selectFrom('messages').select('client_id').where('user_id', '=', Number(alice.user.id)).execute()
  t.equal(stored.length, pairs.length, 'one message per client id')
})

t.test('a database error is logged without the values of its statement', async t => {
  const app = await buildTestApp(t)
  const alice = await register(app, 'alice')
  await as(app, alice, 'POST', '/api/rooms', { name: 'hall' })
  const sent = (await as(app, alice, 'POST', '/api/rooms/hall/messages', { text: 'x', clientId: 'secret-client-id' })).json().event
  let caught: unknown
  try {
    // A real unique-key failure from the real database, carrying a private text.
    await app.database.db.insertInto('messages').values({ id: Number(sent.id) + 1000, room_id: Number(sent.roomId), user_id: Number(alice.user.id), text: 'private words', client_id: 'secret-client-id', created_at: Date.now() }).execute()
  } catch (err) {
    caught = err
  }
  t.ok(caught instanceof Error, 'the insert failed')
  const logged = JSON.stringify(loggableError(caught))
  t.notMatch(logged, /private words/, 'no message text')
  t.notMatch(logged, /secret-client-id/, 'no client id')
  t.notMatch(logged, /insert into/i, 'no statement')
  t.match(logged, /"code":"(ER_DUP_ENTRY|SQLITE_CONSTRAINT_UNIQUE)"/, 'the kind of failure stays')
})
