import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { as, buildTestApp, register, type Session } from '../helper.js'

// Sends with a bearer token take the credentials and the room from memory and
// check them again in the batch's transaction (MessageService.send). These
// tests change the database behind memory's back (no event, so no cache is
// told) and expect the next send to be refused exactly as without memory.

async function tokenOf (app: FastifyInstance, s: Session): Promise<{ id: string, headers: Record<string, string> }> {
  const res = await as(app, s, 'POST', '/api/tokens', { name: 'bot', password: 'correct horse battery' })
  if (res.statusCode !== 201) throw new Error(`token: ${res.statusCode} ${res.body}`)
  return { id: res.json().id, headers: { authorization: `Bearer ${res.json().token as string}` } }
}

t.test('sends with a token', async t => {
  const app = await buildTestApp(t)
  const db = app.database.db
  const alice = await register(app, 'alice')
  const bob = await register(app, 'bob')
  const room = (await as(app, alice, 'POST', '/api/rooms', { name: 'general' })).json().room.id as string
  await as(app, bob, 'POST', '/api/rooms/general/join')
  const bobToken = await tokenOf(app, bob)
  const send = async (headers: Record<string, string>, text: string, clientId?: string, ref = room): Promise<{ statusCode: number, json: () => any }> =>
    await app.inject({ method: 'POST', url: `/api/rooms/${ref}/messages`, headers, payload: { text, ...(clientId === undefined ? {} : { clientId }) } })

  t.test('repeated sends are stored once each, in order, and the same clientId once', async t => {
    const answers = []
    for (let i = 0; i < 5; i++) answers.push(await send(bobToken.headers, `m${i}`, `k${i}`))
    t.same(answers.map(a => a.statusCode), [201, 201, 201, 201, 201])
    const ids = answers.map(a => Number(a.json().event.id))
    t.same([...ids].sort((a, b) => a - b), ids, 'ids grow')
    t.match(answers[4]?.json().event, { type: 'message', text: 'm4', clientId: 'k4', user: { username: 'bob' } })
    const racing = await Promise.all([1, 2, 3, 4, 5].map(async () => await send(bobToken.headers, 'race', 'r1')))
    t.same(racing.map(r => r.statusCode).sort(), [200, 200, 200, 200, 201])
    t.equal(new Set(racing.map(r => r.json().event.id)).size, 1)
    const stored = await db.selectFrom('messages').select('id').where('client_id', '=', 'r1').execute()
    t.equal(stored.length, 1)
  })

  t.test('a known token and room cost no lookup before the batch (statements counted, not time)', async t => {
    t.equal((await send(bobToken.headers, 'warm')).statusCode, 201)
    const count = async (fn: () => Promise<unknown>): Promise<number> => {
      const before = app.database.queryCount()
      await fn()
      return app.database.queryCount() - before
    }
    const withToken = await count(async () => await send(bobToken.headers, 'by token'))
    const withCookie = await count(async () => await as(app, bob, 'POST', `/api/rooms/${room}/messages`, { text: 'by cookie' }))
    // The cookie's send reads the session's user, its revocation, the room and the
    // membership first; the token's checks all that in one statement in the batch.
    t.ok(withToken + 3 <= withCookie, `token send ${withToken} statements, cookie send ${withCookie}`)
  })

  t.test('the event shows the account as stored now', async t => {
    t.equal((await send(bobToken.headers, 'warm')).statusCode, 201)
    await db.updateTable('users').set({ display_name: 'Robert' }).where('id', '=', Number(bob.user.id)).execute()
    const res = await send(bobToken.headers, 'renamed')
    t.equal(res.statusCode, 201)
    t.equal(res.json().event.user.displayName, 'Robert')
  })

  t.test('a membership gone behind memory\'s back: 403 not_member, nothing stored', async t => {
    const carol = await register(app, 'carol')
    await as(app, carol, 'POST', '/api/rooms/general/join')
    const token = await tokenOf(app, carol)
    t.equal((await send(token.headers, 'hello')).statusCode, 201)
    await db.deleteFrom('memberships').where('user_id', '=', Number(carol.user.id)).execute()
    const res = await send(token.headers, 'after leaving', 'gone1')
    t.equal(res.statusCode, 403)
    t.equal(res.json().error.code, 'not_member')
    t.equal((await db.selectFrom('messages').select('id').where('client_id', '=', 'gone1').execute()).length, 0)
  })

  t.test('kicked by a moderator: refused at once', async t => {
    const dave = await register(app, 'dave')
    await as(app, dave, 'POST', '/api/rooms/general/join')
    const token = await tokenOf(app, dave)
    t.equal((await send(token.headers, 'hi')).statusCode, 201)
    t.equal((await as(app, alice, 'POST', '/api/rooms/general/kick', { username: 'dave' })).statusCode, 204)
    t.equal((await send(token.headers, 'still here?')).statusCode, 403)
  })

  t.test('a token deleted behind memory\'s back: 401, nothing stored', async t => {
    const erin = await register(app, 'erin')
    await as(app, erin, 'POST', '/api/rooms/general/join')
    const token = await tokenOf(app, erin)
    t.equal((await send(token.headers, 'hi')).statusCode, 201)
    await db.deleteFrom('api_tokens').where('id', '=', Number(token.id)).execute()
    const res = await send(token.headers, 'with a dead token', 'dead1')
    t.equal(res.statusCode, 401)
    t.equal((await db.selectFrom('messages').select('id').where('client_id', '=', 'dead1').execute()).length, 0)
  })

  t.test('a token revoked through the API: 401', async t => {
    const frank = await register(app, 'frank')
    await as(app, frank, 'POST', '/api/rooms/general/join')
    const token = await tokenOf(app, frank)
    t.equal((await send(token.headers, 'hi')).statusCode, 201)
    t.equal((await as(app, frank, 'DELETE', `/api/tokens/${token.id}`)).statusCode, 204)
    t.equal((await send(token.headers, 'revoked')).statusCode, 401)
  })

  t.test('an account disabled behind memory\'s back: 401', async t => {
    const gina = await register(app, 'gina')
    await as(app, gina, 'POST', '/api/rooms/general/join')
    const token = await tokenOf(app, gina)
    t.equal((await send(token.headers, 'hi')).statusCode, 201)
    await db.updateTable('users').set({ disabled_at: Date.now() }).where('id', '=', Number(gina.user.id)).execute()
    t.equal((await send(token.headers, 'disabled', 'dis1')).statusCode, 401)
    t.equal((await db.selectFrom('messages').select('id').where('client_id', '=', 'dis1').execute()).length, 0)
  })

  t.test('a room archived behind memory\'s back: 403, nothing stored', async t => {
    const other = (await as(app, alice, 'POST', '/api/rooms', { name: 'soon-archived' })).json().room.id as string
    await as(app, bob, 'POST', '/api/rooms/soon-archived/join')
    t.equal((await send(bobToken.headers, 'hi', undefined, other)).statusCode, 201)
    await db.updateTable('rooms').set({ archived_at: Date.now() }).where('id', '=', Number(other)).execute()
    const res = await send(bobToken.headers, 'archived', 'arch1', other)
    t.equal(res.statusCode, 403)
    t.equal((await db.selectFrom('messages').select('id').where('client_id', '=', 'arch1').execute()).length, 0)
  })

  t.test('a batch where one sender fails the check stores the others', async t => {
    const hal = await register(app, 'hal')
    await as(app, hal, 'POST', '/api/rooms/general/join')
    const token = await tokenOf(app, hal)
    t.equal((await send(token.headers, 'hi')).statusCode, 201)
    await db.deleteFrom('memberships').where('user_id', '=', Number(hal.user.id)).execute()
    const answers = await Promise.all([
      send(token.headers, 'refused', 'mix-hal'),
      ...[1, 2, 3].map(async i => await send(bobToken.headers, `fine ${i}`, `mix-bob${i}`))
    ])
    t.same(answers.map(a => a.statusCode), [403, 201, 201, 201])
    const stored = await db.selectFrom('messages').select('client_id').where('client_id', 'like', 'mix-%').execute()
    t.same(stored.map(r => r.client_id).sort(), ['mix-bob1', 'mix-bob2', 'mix-bob3'])
  })
})
