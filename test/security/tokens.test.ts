import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { as, buildTestApp, register, type Session } from '../helper.js'

/*
 * A stolen cookie must not buy lasting access: minting a token asks for the
 * password, and a password change or "sign out everywhere" ends every token.
 */

const password = 'correct horse battery'

async function mint (app: FastifyInstance, s: Session, body: Record<string, unknown> = { name: 'loot', password }): Promise<any> {
  return await as(app, s, 'POST', '/api/tokens', body)
}

/** What a token can still do: read the account (database path) and poll (cached path). */
async function tokenWorks (app: FastifyInstance, token: string): Promise<[number, number]> {
  const headers = { authorization: `Bearer ${token}` }
  const me = await app.inject({ url: '/api/me', headers })
  const poll = await app.inject({ url: '/api/poll?timeout=0', headers })
  return [me.statusCode, poll.statusCode]
}

t.test('tokens and account security', async t => {
  const app = await buildTestApp(t)

  t.test('a cookie alone cannot mint a token: the password is asked, and a wrong one is refused', async t => {
    const victim = await register(app, 'victim1')
    const missing = await mint(app, victim, { name: 'loot' })
    t.equal(missing.statusCode, 400)
    t.ok('password' in missing.json().error.fields)
    const wrong = await mint(app, victim, { name: 'loot', password: 'a wrong guess' })
    t.equal(wrong.statusCode, 401)
    t.equal(wrong.json().error.code, 'bad_credentials')
    t.same((await as(app, victim, 'GET', '/api/tokens')).json().tokens, [], 'no token was made')
    t.equal((await mint(app, victim)).statusCode, 201, 'with the password it works')
  })

  t.test('a password change ends every token, and the session that changed it goes on', async t => {
    const victim = await register(app, 'victim2')
    const { token } = (await mint(app, victim)).json()
    // Warm the cached credential path, which must be dropped too.
    t.same(await tokenWorks(app, token), [200, 200])
    const changed = await as(app, victim, 'POST', '/api/password', { currentPassword: password, newPassword: 'a brand new password' })
    t.equal(changed.statusCode, 204)
    t.same(await tokenWorks(app, token), [401, 401], 'the token is dead on both paths')
    const cookie = String(changed.headers['set-cookie']).split(';')[0] as string
    t.equal((await app.inject({ url: '/api/me', headers: { cookie } })).statusCode, 200, 'the changing session lives on')
    t.same((await app.inject({ url: '/api/tokens', headers: { cookie } })).json().tokens, [], 'no token is left')
  })

  t.test('sign out everywhere ends every session and every token', async t => {
    const victim = await register(app, 'victim3')
    const { token } = (await mint(app, victim)).json()
    const second = (await mint(app, victim, { name: 'two', password })).json().token
    t.same(await tokenWorks(app, token), [200, 200])
    t.equal((await as(app, victim, 'POST', '/api/sessions/revoke')).statusCode, 204)
    t.same(await tokenWorks(app, token), [401, 401])
    t.same(await tokenWorks(app, second), [401, 401])
    t.equal((await as(app, victim, 'GET', '/api/me')).statusCode, 401, 'the cookie is over too')
    const count = await app.database.db.selectFrom('api_tokens').select('id').where('user_id', '=', Number(victim.user.id)).execute()
    t.same(count, [])
  })

  t.test('a token gets 403 on every account route, and cannot end the owner\'s sessions', async t => {
    const victim = await register(app, 'victim4')
    const made = (await mint(app, victim)).json()
    const headers = { authorization: `Bearer ${made.token as string}` }
    const attempts: Array<[string, string, Record<string, unknown> | undefined]> = [
      ['POST', '/api/password', { currentPassword: password, newPassword: 'taken over now' }],
      ['POST', '/api/sessions/revoke', undefined],
      ['POST', '/api/tokens', { name: 'more', password }],
      ['GET', '/api/tokens', undefined],
      ['DELETE', `/api/tokens/${made.id as string}`, undefined]
    ]
    for (const [method, url, payload] of attempts) {
      const res = await app.inject({ method: method as 'GET', url, headers, ...(payload === undefined ? {} : { payload }) })
      t.equal(res.statusCode, 403, `${method} ${url}`)
      t.equal(res.json().error.code, 'forbidden')
    }
    t.equal((await as(app, victim, 'GET', '/api/me')).statusCode, 200, 'the owner is still signed in')
    t.equal((await app.inject({ method: 'POST', url: '/api/login', payload: { username: 'victim4', password } })).statusCode, 200, 'the password is unchanged')
  })
})
