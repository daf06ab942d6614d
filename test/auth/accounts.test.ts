import t from 'tap'
import { as, buildTestApp, register, sessionCookieOf } from '../helper.js'

t.test('accounts', async t => {
  const app = await buildTestApp(t)

  t.test('register answers 201 with the user and a session cookie with the contract flags', async t => {
    const res = await app.inject({ method: 'POST', url: '/api/register', payload: { username: 'Alice', password: 'password-alice', displayName: 'Alice A.' } })
    t.equal(res.statusCode, 201)
    t.same(res.json().user, { id: res.json().user.id, username: 'alice', displayName: 'Alice A.' })
    t.match(res.json().user.id, /^\d+$/)
    const cookie = String(res.headers['set-cookie'])
    t.match(cookie, /HttpOnly/)
    t.match(cookie, /SameSite=Lax/)
    t.match(cookie, /Path=\//)
    t.notMatch(cookie, /Secure/, 'plain HTTP without a trusted proxy: no Secure flag')
  })

  t.test('usernames are one account whatever their case', async t => {
    const res = await app.inject({ method: 'POST', url: '/api/register', payload: { username: 'ALICE', password: 'another-password' } })
    t.equal(res.statusCode, 409)
    t.equal(res.json().error.code, 'username_taken')
  })

  t.test('two registrations of one name racing: exactly one wins', async t => {
    const results = await Promise.all(['Racer', 'racer', 'RACER', 'rAcEr'].map(async username =>
      await app.inject({ method: 'POST', url: '/api/register', payload: { username, password: 'password-racer' } })))
    t.same(results.map(r => r.statusCode).sort(), [201, 409, 409, 409])
  })

  t.test('bad input names the fields', async t => {
    const res = await app.inject({ method: 'POST', url: '/api/register', payload: { username: 'a b', password: 'short' } })
    t.equal(res.statusCode, 400)
    t.equal(res.json().error.code, 'invalid')
    t.ok(res.json().error.fields.username ?? res.json().error.fields.password)
  })

  t.test('login: same answer for an unknown user and a wrong password', async t => {
    const unknown = await app.inject({ method: 'POST', url: '/api/login', payload: { username: 'nobody', password: 'password-alice' } })
    const wrong = await app.inject({ method: 'POST', url: '/api/login', payload: { username: 'alice', password: 'wrong-password' } })
    t.equal(unknown.statusCode, 401)
    t.equal(wrong.statusCode, 401)
    t.same(unknown.json(), wrong.json())
    t.equal(wrong.json().error.code, 'bad_credentials')
    const ok = await app.inject({ method: 'POST', url: '/api/login', payload: { username: 'ALICE', password: 'password-alice' } })
    t.equal(ok.statusCode, 200)
    t.equal(ok.json().user.username, 'alice')
  })

  t.test('me needs a session', async t => {
    const anon = await app.inject({ method: 'GET', url: '/api/me' })
    t.equal(anon.statusCode, 401)
    t.equal(anon.json().error.code, 'unauthenticated')
    const bob = await register(app, 'bob')
    const me = await as(app, bob, 'GET', '/api/me')
    t.equal(me.statusCode, 200)
    t.equal(me.json().user.username, 'bob')
  })

  t.test('logout ends that session, also for a copy of its cookie', async t => {
    const s = await register(app, 'carol')
    const login = await app.inject({ method: 'POST', url: '/api/login', payload: { username: 'carol', password: 'correct horse battery' } })
    const other = sessionCookieOf(login)
    const out = await as(app, s, 'POST', '/api/logout')
    t.equal(out.statusCode, 204)
    t.match(String(out.headers['set-cookie']), /chat_session=;/)
    t.equal((await as(app, s, 'GET', '/api/me')).statusCode, 401, 'the captured cookie is refused')
    t.equal((await app.inject({ url: '/api/me', headers: { cookie: other } })).statusCode, 200, 'the other session lives on')
  })

  t.test('sessions/revoke ends every session of the user', async t => {
    const s = await register(app, 'dave')
    const login = await app.inject({ method: 'POST', url: '/api/login', payload: { username: 'dave', password: 'correct horse battery' } })
    const captured = sessionCookieOf(login)
    t.equal((await as(app, s, 'POST', '/api/sessions/revoke')).statusCode, 204)
    t.equal((await app.inject({ url: '/api/me', headers: { cookie: captured } })).statusCode, 401)
    t.equal((await as(app, s, 'GET', '/api/me')).statusCode, 401)
  })

  t.test('password change: wrong current password is refused; other sessions end; this one continues', async t => {
    const s = await register(app, 'erin')
    const login = await app.inject({ method: 'POST', url: '/api/login', payload: { username: 'erin', password: 'correct horse battery' } })
    const other = sessionCookieOf(login)
    const wrong = await as(app, s, 'POST', '/api/password', { currentPassword: 'nope-nope-nope', newPassword: 'new-password-1' })
    t.equal(wrong.statusCode, 401)
    t.equal(wrong.json().error.code, 'bad_credentials')
    const ok = await as(app, s, 'POST', '/api/password', { currentPassword: 'correct horse battery', newPassword: 'new-password-1' })
    t.equal(ok.statusCode, 204)
    const fresh = sessionCookieOf(ok)
    t.equal((await app.inject({ url: '/api/me', headers: { cookie: fresh } })).statusCode, 200)
    t.equal((await app.inject({ url: '/api/me', headers: { cookie: other } })).statusCode, 401)
    t.equal((await app.inject({ method: 'POST', url: '/api/login', payload: { username: 'erin', password: 'new-password-1' } })).statusCode, 200)
  })

  t.test('tokens: created once, listed without the secret, work as bearer, stop at once when deleted', async t => {
    const s = await register(app, 'frank')
    const created = await as(app, s, 'POST', '/api/tokens', { name: 'cron', password: 'correct horse battery' })
    t.equal(created.statusCode, 201)
    const { id, token, name } = created.json()
    t.equal(name, 'cron')
    t.match(token, /^lpc_/)
    const list = await as(app, s, 'GET', '/api/tokens')
    t.same(list.json().tokens.map((x: { id: string }) => x.id), [id])
    t.notMatch(list.body, token)
    const bearer = { authorization: `Bearer ${token}` }
    const me = await app.inject({ url: '/api/me', headers: bearer })
    t.equal(me.statusCode, 200)
    t.equal(me.json().user.username, 'frank')
    const listed = await as(app, s, 'GET', '/api/tokens')
    t.type(listed.json().tokens[0].lastUsedAt, 'string', 'last use is recorded')
    t.equal((await app.inject({ method: 'POST', url: '/api/tokens', headers: bearer, payload: { name: 'x' } })).statusCode, 403, 'a token cannot mint tokens')
    t.equal((await as(app, s, 'DELETE', `/api/tokens/${id as string}`)).statusCode, 204)
    t.equal((await app.inject({ url: '/api/me', headers: bearer })).statusCode, 401)
    t.equal((await app.inject({ url: '/api/poll', headers: bearer })).statusCode, 401, 'also on the cached poll path')
    t.equal((await as(app, s, 'DELETE', `/api/tokens/${id as string}`)).statusCode, 404)
  })

  t.test('a tampered cookie or one sealed with an unknown secret is no session', async t => {
    const s = await register(app, 'hank')
    const tampered = s.cookie.slice(0, -3) + (s.cookie.endsWith('a~2') ? 'b~2' : 'a~2')
    t.equal((await app.inject({ url: '/api/me', headers: { cookie: tampered } })).statusCode, 401)
    t.equal((await app.inject({ url: '/api/me', headers: { cookie: 'chat_session=garbage' } })).statusCode, 401)
  })

  t.test('the first account is the administrator', async t => {
    const row = await app.database.db.selectFrom('users').select(['username', 'is_admin']).orderBy('id').execute()
    t.equal(row[0]?.username, 'alice')
    t.equal(Number(row[0]?.is_admin), 1)
    t.ok(row.slice(1).every(r => Number(r.is_admin) === 0))
  })
})

t.test('REGISTRATION=closed refuses new accounts', async t => {
  const app = await buildTestApp(t, { REGISTRATION: 'closed' })
  const res = await app.inject({ method: 'POST', url: '/api/register', payload: { username: 'zed', password: 'password-zed' } })
  t.equal(res.statusCode, 403)
  t.equal(res.json().error.code, 'forbidden')
})
