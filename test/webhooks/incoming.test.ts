import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { as, buildTestApp, register, type Session } from '../helper.js'

async function history (app: FastifyInstance, session: Session, room: string): Promise<Array<{ text: string, user: { username: string, displayName: string, bot?: boolean } }>> {
  return (await as(app, session, 'GET', `/api/rooms/${room}/messages`)).json().events
}

const pathOf = (url: string): string => new URL(url).pathname

t.test('incoming webhooks', async t => {
  const app = await buildTestApp(t)
  const owner = await register(app, 'owner')
  const member = await register(app, 'member')
  const outsider = await register(app, 'outsider')
  await as(app, owner, 'POST', '/api/rooms', { name: 'ci' })
  await as(app, member, 'POST', '/api/rooms/ci/join')

  const created = await as(app, owner, 'POST', '/api/rooms/ci/incoming-webhooks', { name: 'Jenkins' })
  const hook = created.json() as { id: string, name: string, url: string }

  t.test('a moderator makes one: 201 with an absolute URL holding the secret', async t => {
    t.equal(created.statusCode, 201)
    t.equal(hook.name, 'Jenkins')
    t.match(hook.url, /^http:\/\/localhost(:\d+)?\/api\/hooks\/[A-Za-z0-9_-]{43}$/)
    const listed = (await as(app, owner, 'GET', '/api/rooms/ci/incoming-webhooks')).json().webhooks
    t.match(listed, [{ id: hook.id, name: 'Jenkins', lastUsedAt: null }])
    t.notOk(JSON.stringify(listed).includes(pathOf(hook.url).split('/').pop() as string), 'the secret is shown once')
    const stored = await app.database.db.selectFrom('incoming_webhooks').select('secret_hash').executeTakeFirstOrThrow()
    t.notOk(hook.url.includes(stored.secret_hash), 'only a hash is stored')
  })

  t.test('members and outsiders may not manage them', async t => {
    t.equal((await as(app, member, 'POST', '/api/rooms/ci/incoming-webhooks', { name: 'x' })).statusCode, 403)
    t.equal((await as(app, member, 'GET', '/api/rooms/ci/incoming-webhooks')).statusCode, 403)
    t.equal((await as(app, member, 'DELETE', `/api/rooms/ci/incoming-webhooks/${hook.id}`)).statusCode, 403)
    t.equal((await as(app, outsider, 'GET', '/api/rooms/ci/incoming-webhooks')).json().error.code, 'not_member')
    const bad = await as(app, owner, 'POST', '/api/rooms/ci/incoming-webhooks', { name: '' })
    t.equal(bad.statusCode, 400)
    t.ok(bad.json().error.fields.name)
  })

  t.test('every Slack body shape posts a message from the bot, answered 200 ok', async t => {
    const url = pathOf(hook.url)
    const shapes = [
      { headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ text: 'json body', icon_emoji: ':ghost:', channel: '#x' }) },
      { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `payload=${encodeURIComponent(JSON.stringify({ text: 'form payload' }))}` },
      { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'text=form+text' },
      { headers: { 'content-type': 'text/plain' }, payload: 'plain text' }
    ]
    for (const shape of shapes) {
      const res = await app.inject({ method: 'POST', url, ...shape })
      t.equal(res.statusCode, 200, res.body)
      t.equal(res.body, 'ok')
      t.match(res.headers['content-type'], /^text\/plain/)
    }
    const texts = (await history(app, member, 'ci')).map(e => e.text)
    t.same(texts.slice(-4), ['json body', 'form payload', 'form text', 'plain text'])
    const last = (await history(app, member, 'ci')).pop()
    t.match(last?.user, { displayName: 'Jenkins', bot: true })
    t.match(last?.user.username, /^~/)
  })

  t.test('the event reaches polls with bot: true; `username` names the bot', async t => {
    const head = (await as(app, member, 'GET', '/api/poll')).json().cursor
    const res = await app.inject({ method: 'POST', url: pathOf(hook.url), payload: { text: 'deploy done', username: 'Deploy bot' } })
    t.equal(res.statusCode, 200)
    const polled = (await as(app, member, 'GET', `/api/poll?cursor=${head as string}&timeout=5`)).json().events
    t.match(polled, [{ type: 'message', text: 'deploy done', user: { displayName: 'Deploy bot', bot: true } }])
    const again = await app.inject({ method: 'POST', url: pathOf(hook.url), payload: { text: 'again', username: 'Deploy bot' } })
    t.equal(again.statusCode, 200)
    const both = (await history(app, member, 'ci')).slice(-2)
    t.equal(both[0]?.user.username, both[1]?.user.username, 'one bot user per name')
    t.match((await as(app, owner, 'GET', '/api/rooms/ci/incoming-webhooks')).json().webhooks[0].lastUsedAt, /^\d{4}-/)
  })

  t.test('bad bodies are 400, naming the field', async t => {
    const url = pathOf(hook.url)
    for (const payload of [{}, { text: '' }, { text: 42 }, { text: 'x'.repeat(4001) }, { text: 'ok', username: 'x'.repeat(65) }]) {
      const res = await app.inject({ method: 'POST', url, payload })
      t.equal(res.statusCode, 400, JSON.stringify(payload))
      t.equal(res.json().error.code, 'invalid')
    }
    const form = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'payload=not-json' })
    t.equal(form.statusCode, 400)
    t.ok(form.json().error.fields.payload)
  })

  t.test('the bot cannot sign in and cannot be named by any route', async t => {
    const username = (await history(app, member, 'ci')).pop()?.user.username as string
    t.equal((await app.inject({ method: 'POST', url: '/api/login', payload: { username, password: '!' } })).statusCode, 401)
    t.equal((await as(app, member, 'POST', '/api/direct', { username })).statusCode, 400)
    t.equal((await as(app, owner, 'POST', '/api/rooms/ci/members', { username })).statusCode, 400)
    t.equal((await app.inject({ method: 'POST', url: '/api/register', payload: { username: '~evil', password: 'long enough password' } })).statusCode, 400)
    const members = (await as(app, owner, 'GET', '/api/rooms/ci/members')).json().members as Array<{ username: string }>
    t.notOk(members.some(m => m.username.startsWith('~')), 'bots are no members')
  })

  t.test('a wrong or deleted secret is 404', async t => {
    t.equal((await app.inject({ method: 'POST', url: '/api/hooks/nope', payload: { text: 'x' } })).statusCode, 404)
    t.equal((await app.inject({ method: 'POST', url: `/api/hooks/${'A'.repeat(43)}`, payload: { text: 'x' } })).statusCode, 404)
    const other = (await as(app, owner, 'POST', '/api/rooms/ci/incoming-webhooks', { name: 'temp' })).json()
    t.equal((await app.inject({ method: 'POST', url: pathOf(other.url), payload: { text: 'before' } })).statusCode, 200)
    t.equal((await as(app, owner, 'DELETE', `/api/rooms/ci/incoming-webhooks/${other.id as string}`)).statusCode, 204)
    t.equal((await app.inject({ method: 'POST', url: pathOf(other.url), payload: { text: 'after' } })).statusCode, 404)
    t.equal((await as(app, owner, 'DELETE', `/api/rooms/ci/incoming-webhooks/${other.id as string}`)).statusCode, 404)
  })

  t.test('at most WEBHOOKS_PER_ROOM per room', async t => {
    await as(app, owner, 'POST', '/api/rooms', { name: 'full' })
    for (let i = 0; i < 10; i++) t.equal((await as(app, owner, 'POST', '/api/rooms/full/incoming-webhooks', { name: `h${i}` })).statusCode, 201)
    t.equal((await as(app, owner, 'POST', '/api/rooms/full/incoming-webhooks', { name: 'one too many' })).statusCode, 403)
  })
})

t.test('posts through a hook are rate-limited like sends', async t => {
  const app = await buildTestApp(t, { RATE_LIMIT_DISABLED: 'false', RATE_SEND_MAX: '3', RATE_SEND_WINDOW: '60' })
  const owner = await register(app, 'owner')
  await as(app, owner, 'POST', '/api/rooms', { name: 'busy' })
  const hook = (await as(app, owner, 'POST', '/api/rooms/busy/incoming-webhooks', { name: 'chatty' })).json()
  const codes: number[] = []
  for (let i = 0; i < 4; i++) codes.push((await app.inject({ method: 'POST', url: pathOf(hook.url), payload: { text: `n${i}` } })).statusCode)
  t.same(codes, [200, 200, 200, 429])
})
