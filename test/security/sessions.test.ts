import t from 'tap'
import { unsealData } from 'iron-session'
import { buildTestApp, register, sessionCookieOf } from '../helper.js'
import { createTestDatabase } from '../helpers/database.js'
import { SessionSealer } from '../../src/auth/session-cookie.js'

const oldSecret = 'the-old-secret-that-is-at-least-32-characters'
const newSecret = 'the-new-secret-that-is-at-least-32-characters'
const retiredSecret = 'a-retired-secret-that-is-at-least-32-characters'

const me = async (app: Awaited<ReturnType<typeof buildTestApp>>, cookie: string): Promise<number> =>
  (await app.inject({ url: '/api/me', headers: { cookie } })).statusCode

const valueOf = (cookie: string): string => cookie.slice(cookie.indexOf('=') + 1)

t.test('secret rotation: the first secret seals, all unseal; a retired secret is refused', async t => {
  const database = await createTestDatabase(t)
  const before = await buildTestApp(t, { SESSION_SECRET: oldSecret }, database)
  const alice = await register(before, 'alice')
  const bob = await register(before, 'bob')
  const gone = await buildTestApp(t, { SESSION_SECRET: retiredSecret }, database)
  const goneCookie = (await register(gone, 'carol')).cookie

  const rotated = await buildTestApp(t, { SESSION_SECRET: `${newSecret},${oldSecret}` }, database)

  t.test('a cookie sealed with the older secret of the list is accepted and sealed again with the first', async t => {
    const res = await rotated.inject({ url: '/api/me', headers: { cookie: alice.cookie } })
    t.equal(res.statusCode, 200)
    t.equal(res.json().user.username, 'alice')
    const resealed = sessionCookieOf(res)
    t.not(resealed, alice.cookie)
    t.match(String(res.headers['set-cookie']), /HttpOnly/)
    const current = new SessionSealer([newSecret], 3600)
    t.ok(current.isCurrent(valueOf(resealed)), 'sealed with the first secret')
    t.ok(await current.unseal(valueOf(resealed)), 'opens with the first secret alone')
    const withOld = await unsealData<{ u?: string }>(valueOf(resealed), { password: { 1: oldSecret } }).catch(() => ({ u: undefined }))
    t.equal(withOld.u, undefined, 'not with the older one')
    const again = await rotated.inject({ url: '/api/me', headers: { cookie: resealed } })
    t.equal(again.statusCode, 200)
    t.equal(again.headers['set-cookie'], undefined, 'a current cookie is left alone')
  })

  t.test('new sessions are sealed with the first secret', async t => {
    const login = await rotated.inject({ method: 'POST', url: '/api/login', payload: { username: 'bob', password: 'correct horse battery' } })
    t.equal(login.statusCode, 200)
    t.ok(new SessionSealer([newSecret], 3600).isCurrent(valueOf(sessionCookieOf(login))))
  })

  t.test('a cookie sealed with a secret that is no longer in the list is refused', async t => {
    t.equal(await me(gone, goneCookie), 200, 'valid where its secret is known')
    t.equal(await me(rotated, goneCookie), 401)
    const retiredOld = await buildTestApp(t, { SESSION_SECRET: newSecret }, database)
    t.equal(await me(retiredOld, bob.cookie), 401, 'once the old secret is dropped, its cookies stop')
  })
})

t.test('revoked, outdated, tampered and forged cookies are refused', async t => {
  const app = await buildTestApp(t)
  const alice = await register(app, 'alice')

  t.test('after logout, a copy of the cookie is refused', async t => {
    const login = await app.inject({ method: 'POST', url: '/api/login', payload: { username: 'alice', password: 'correct horse battery' } })
    const cookie = sessionCookieOf(login)
    t.equal(await me(app, cookie), 200)
    t.equal((await app.inject({ method: 'POST', url: '/api/logout', headers: { cookie } })).statusCode, 204)
    t.equal(await me(app, cookie), 401)
    t.equal((await app.inject({ url: '/api/poll', headers: { cookie } })).statusCode, 401, 'on the cached poll path too')
  })

  t.test('after sessions/revoke, an outdated cookie (older session version) is refused', async t => {
    const login = await app.inject({ method: 'POST', url: '/api/login', payload: { username: 'alice', password: 'correct horse battery' } })
    const old = sessionCookieOf(login)
    t.equal((await app.inject({ method: 'POST', url: '/api/sessions/revoke', headers: { cookie: alice.cookie } })).statusCode, 204)
    t.equal(await me(app, old), 401)
    t.equal(await me(app, alice.cookie), 401)
  })

  t.test('tampered cookies are refused', async t => {
    const fresh = sessionCookieOf(await app.inject({ method: 'POST', url: '/api/login', payload: { username: 'alice', password: 'correct horse battery' } }))
    t.equal(await me(app, fresh), 200)
    const value = valueOf(fresh)
    const parts = value.split('*')
    const flip = (s: string, i: number): string => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1)
    const variants = [
      flip(value, Math.floor(value.length / 2)),
      flip(value, value.indexOf('*', 10) + 3),
      value.slice(0, -1),
      value + 'x',
      parts.map((p, i) => i === 3 ? flip(p, 0) : p).join('*'),
      value.replace(/~\d+$/, '~1'),
      'x'.repeat(5000)
    ]
    for (const v of variants) t.equal(await me(app, `chat_session=${v}`), 401, v.slice(0, 40))
  })

  t.test('a well-sealed cookie naming another session version or a missing user is refused', async t => {
    const { testSecret } = await import('../helper.js')
    const sealer = new SessionSealer([testSecret], 3600)
    const userId = (await app.inject({ url: '/api/me', headers: { cookie: sessionCookieOf(await app.inject({ method: 'POST', url: '/api/login', payload: { username: 'alice', password: 'correct horse battery' } })) } })).json().user.id
    t.equal(await me(app, `chat_session=${await sealer.seal({ userId, sessionId: 'forged', version: 0 })}`), 401, 'outdated version')
    t.equal(await me(app, `chat_session=${await sealer.seal({ userId: '999999', sessionId: 'forged', version: 0 })}`), 401, 'no such user')
    t.equal(await me(app, `chat_session=${await sealer.seal({ userId: '1 OR 1=1', sessionId: 'x', version: 0 })}`), 401, 'not an id')
  })
})
