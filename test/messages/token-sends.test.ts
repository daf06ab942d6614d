import t, { type Test } from 'tap'
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

  // A send's own statements: the feed's reads of events and of the counter come
  // from its timer, or when a commit meets a read under way, whichever send it is.
  const sent = { statements: 0 }
  t.teardown(app.database.watchQueries(sql => {
    if (!/^select .* from [`"](events|ephemeral_events|event_seq)[`"]/i.test(sql)) sent.statements++
  }))

  t.test('a known token and room cost no lookup before the batch (statements counted, not time)', async t => {
    t.equal((await send(bobToken.headers, 'warm')).statusCode, 201)
    const count = async (fn: () => Promise<unknown>): Promise<number> => {
      const before = sent.statements
      await fn()
      return sent.statements - before
    }
    const withToken = await count(async () => await send(bobToken.headers, 'by token'))
    const withCookie = await count(async () => await as(app, bob, 'POST', `/api/rooms/${room}/messages`, { text: 'by cookie' }))
    // The cookie's send reads the session's user, its revocation, the room and the
    // membership first; the token's checks all that in one statement in the batch.
    t.ok(withToken + 3 <= withCookie, `token send ${withToken} statements, cookie send ${withCookie}`)
  })

  t.test('a room named by its name costs no lookup either, once known', async t => {
    t.equal((await send(bobToken.headers, 'warm', undefined, 'general')).statusCode, 201)
    const before = sent.statements
    const res = await send(bobToken.headers, 'by name', undefined, 'general')
    const statements = sent.statements - before
    t.equal(res.statusCode, 201)
    t.equal(res.json().event.roomId, room)
    const byId = sent.statements
    await send(bobToken.headers, 'by id')
    t.equal(statements, sent.statements - byId, `as many statements as a send by id (${statements})`)
  })

  t.test('a name is the room that bears it now: renamed behind memory\'s back, the name is found again', async t => {
    const first = (await as(app, alice, 'POST', '/api/rooms', { name: 'moving' })).json().room.id as string
    await as(app, bob, 'POST', '/api/rooms/moving/join')
    t.equal((await send(bobToken.headers, 'hi', undefined, 'moving')).statusCode, 201)
    await db.updateTable('rooms').set({ name: 'moved-away' }).where('id', '=', Number(first)).execute()
    const gone = await send(bobToken.headers, 'where?', 'moving-1', 'moving')
    t.equal(gone.statusCode, 404, 'no room bears the name now')
    t.equal((await db.selectFrom('messages').select('id').where('client_id', '=', 'moving-1').execute()).length, 0, 'nothing stored')

    t.equal((await send(bobToken.headers, 'hi again', undefined, 'moved-away')).statusCode, 201)
    const second = (await as(app, alice, 'POST', '/api/rooms', { name: 'moving' })).json().room.id as string
    await as(app, bob, 'POST', '/api/rooms/moving/join')
    t.equal((await send(bobToken.headers, 'warm', undefined, 'moving')).statusCode, 201)
    // Behind memory's back: the two rooms swap names.
    await db.updateTable('rooms').set({ name: 'swap' }).where('id', '=', Number(second)).execute()
    await db.updateTable('rooms').set({ name: 'moving' }).where('id', '=', Number(first)).execute()
    await db.updateTable('rooms').set({ name: 'moved-away' }).where('id', '=', Number(second)).execute()
    const swapped = await send(bobToken.headers, 'after the swap', 'moving-2', 'moving')
    t.equal(swapped.statusCode, 201)
    t.equal(swapped.json().event.roomId, first, 'stored in the room named so now, not the one memory knew')
  })

  t.test('the event shows the account as stored now', async t => {
    t.equal((await send(bobToken.headers, 'warm')).statusCode, 201)
    await db.updateTable('users').set({ display_name: 'Robert' }).where('id', '=', Number(bob.user.id)).execute()
    const res = await send(bobToken.headers, 'renamed')
    t.equal(res.statusCode, 201)
    t.equal(res.json().event.user.displayName, 'Robert')
  })

  /** A new member of general whose token has sent once, so memory knows the token and the room. */
  const warmMember = async (t: Test, name: string): Promise<{ session: Session, token: { id: string, headers: Record<string, string> } }> => {
    const session = await register(app, name)
    await as(app, session, 'POST', '/api/rooms/general/join')
    const token = await tokenOf(app, session)
    t.equal((await send(token.headers, 'hi')).statusCode, 201)
    return { session, token }
  }

  type Member = Awaited<ReturnType<typeof warmMember>>
  const userId = (m: Member): number => Number(m.session.user.id)
  const refusals: Array<{ name: string, status: number, code?: string, change: (m: Member, username: string) => Promise<unknown> }> = [
    { name: 'a membership gone behind memory\'s back', status: 403, code: 'not_member', change: async m => await db.deleteFrom('memberships').where('user_id', '=', userId(m)).execute() },
    { name: 'kicked by a moderator', status: 403, change: async (_m, username) => await as(app, alice, 'POST', '/api/rooms/general/kick', { username }) },
    { name: 'a token deleted behind memory\'s back', status: 401, change: async m => await db.deleteFrom('api_tokens').where('id', '=', Number(m.token.id)).execute() },
    { name: 'a token revoked through the API', status: 401, change: async m => await as(app, m.session, 'DELETE', `/api/tokens/${m.token.id}`) },
    { name: 'an account disabled behind memory\'s back', status: 401, change: async m => await db.updateTable('users').set({ disabled_at: Date.now() }).where('id', '=', userId(m)).execute() }
  ]
  for (const [i, refusal] of refusals.entries()) {
    t.test(`${refusal.name}: ${refusal.status}, nothing stored`, async t => {
      const username = `member${i}`
      const member = await warmMember(t, username)
      await refusal.change(member, username)
      const res = await send(member.token.headers, 'refused?', `refused-${i}`)
      t.equal(res.statusCode, refusal.status)
      if (refusal.code !== undefined) t.equal(res.json().error.code, refusal.code)
      t.equal((await db.selectFrom('messages').select('id').where('client_id', '=', `refused-${i}`).execute()).length, 0)
    })
  }

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
    const { session: hal, token } = await warmMember(t, 'hal')
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
