import t from 'tap'
import { as, buildTestApp, register } from '../helper.js'
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
