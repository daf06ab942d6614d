import t from 'tap'
import { spawn } from 'node:child_process'
import { as, buildTestApp, register, sessionCookieOf } from '../helper.js'
import { createTestDatabase } from '../helpers/database.js'

const password = 'correct horse battery'

t.test('REGISTRATION=invite: invitation codes with uses and expiry', async t => {
  const app = await buildTestApp(t, { REGISTRATION: 'invite', BASE_PATH: '/chat' })
  const signUp = async (username: string, invite?: string): Promise<{ statusCode: number, json: () => any }> =>
    await app.inject({ method: 'POST', url: '/chat/api/register', payload: { username, password, ...(invite === undefined ? {} : { invite }) } })

  // With no administrator yet, nobody could make an invitation: the first account needs none.
  const first = await signUp('root')
  t.equal(first.statusCode, 201)
  const root = { cookie: sessionCookieOf(first as never), user: first.json().user }
  const asRoot = async (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: Record<string, unknown>): Promise<any> =>
    await app.inject({ method, url: `/chat${url}`, headers: { cookie: root.cookie, host: 'chat.example.com' }, ...(payload === undefined ? {} : { payload }) })

  t.equal((await signUp('uninvited')).statusCode, 403)
  t.equal((await signUp('uninvited', 'not-a-code')).json().error.code, 'forbidden')

  const made = await asRoot('POST', '/api/admin/invites', { uses: 2, expiresInDays: 3 })
  t.equal(made.statusCode, 201)
  const { code, url, uses, expiresAt } = made.json()
  t.equal(uses, 2)
  t.equal(url, `http://chat.example.com/chat/?invite=${code as string}`)
  t.ok(Math.abs(Date.parse(expiresAt) - Date.now() - 3 * 86400000) < 60000)

  t.equal((await signUp('guest1', code)).statusCode, 201)
  t.equal((await signUp('guest1', code)).statusCode, 409, 'a name taken...')
  t.match((await asRoot('GET', '/api/admin/invites')).json().invites, [{ code, usesLeft: 1, createdBy: { username: 'root' } }], '...costs the invitation nothing')
  t.equal((await signUp('guest2', code)).statusCode, 201)
  t.equal((await signUp('guest3', code)).statusCode, 403, 'used up')
  t.same((await asRoot('GET', '/api/admin/invites')).json().invites, [])

  const defaults = (await asRoot('POST', '/api/admin/invites')).json()
  t.equal(defaults.uses, 1)
  t.ok(Math.abs(Date.parse(defaults.expiresAt) - Date.now() - 7 * 86400000) < 60000)
  t.equal((await asRoot('DELETE', `/api/admin/invites/${defaults.code as string}`)).statusCode, 204)
  t.equal((await asRoot('DELETE', `/api/admin/invites/${defaults.code as string}`)).statusCode, 404)
  t.equal((await signUp('guest4', defaults.code)).statusCode, 403, 'a deleted invitation admits nobody')

  const expiring = (await asRoot('POST', '/api/admin/invites')).json()
  await app.database.db.updateTable('invites').set({ expires_at: Date.now() - 1 }).where('code', '=', expiring.code).execute()
  t.equal((await signUp('guest5', expiring.code)).statusCode, 403, 'an expired invitation admits nobody')

  for (const bad of [{ uses: 0 }, { uses: 'two' }, { expiresInDays: 0 }, { expiresInDays: 366 }]) {
    const res = await asRoot('POST', '/api/admin/invites', bad)
    t.equal(res.statusCode, 400, JSON.stringify(bad))
  }
  const guest = await app.inject({ method: 'POST', url: '/chat/api/login', payload: { username: 'guest1', password } })
  const asGuest = await app.inject({ method: 'POST', url: '/chat/api/admin/invites', headers: { cookie: sessionCookieOf(guest) }, payload: {} })
  t.equal(asGuest.statusCode, 403, 'only administrators make invitations')
})

t.test('administrators list users, disable and enable accounts', async t => {
  const app = await buildTestApp(t)
  const admin = await register(app, 'admin')
  const [bob, carol] = await Promise.all([register(app, 'bob'), register(app, 'carol')])
  await app.inject({ method: 'POST', url: '/api/register', payload: { username: 'dave', password, displayName: 'Big Dave' } })
  t.equal((await as(app, bob, 'POST', '/api/rooms', { name: 'bobs-room' })).statusCode, 201)
  t.equal((await as(app, carol, 'POST', '/api/rooms/bobs-room/join')).statusCode, 200)
  t.equal((await as(app, bob, 'POST', '/api/rooms/bobs-room/messages', { text: 'a word from bob' })).statusCode, 201)
  const token = (await as(app, bob, 'POST', '/api/tokens', { name: 'script', password })).json().token as string
  const second = await app.inject({ method: 'POST', url: '/api/login', payload: { username: 'bob', password } })
  const bobElsewhere = { cookie: sessionCookieOf(second), user: bob.user }

  t.test('list: q, after, paged', async t => {
    const all = (await as(app, admin, 'GET', '/api/admin/users')).json()
    t.same(all.users.map((u: { username: string }) => u.username), ['admin', 'bob', 'carol', 'dave'])
    t.equal(all.next, null)
    t.match(all.users[0], { username: 'admin', admin: true, disabled: false, displayName: 'admin' })
    t.ok(typeof all.users[0].createdAt === 'string')
    const page = (await as(app, admin, 'GET', '/api/admin/users?limit=2')).json()
    t.same(page.users.map((u: { username: string }) => u.username), ['admin', 'bob'])
    t.equal(page.next, 'bob')
    t.same((await as(app, admin, 'GET', '/api/admin/users?after=bob')).json().users.map((u: { username: string }) => u.username), ['carol', 'dave'])
    t.same((await as(app, admin, 'GET', '/api/admin/users?q=big')).json().users.map((u: { username: string }) => u.username), ['dave'], 'display names match too')
    t.equal((await as(app, bob, 'GET', '/api/admin/users')).statusCode, 403)
  })

  t.test('disable: every session and token ends at once, sign-in refused, messages stay', async t => {
    t.equal((await app.inject({ url: '/api/me', headers: { authorization: `Bearer ${token}` } })).statusCode, 200)
    t.equal((await as(app, admin, 'POST', '/api/admin/users/Bob/disable')).statusCode, 204)
    for (const s of [bob, bobElsewhere]) t.equal((await as(app, s, 'GET', '/api/me')).statusCode, 401, 'the cookie ended')
    t.equal((await app.inject({ url: '/api/me', headers: { authorization: `Bearer ${token}` } })).statusCode, 401, 'the token ended')
    const login = await app.inject({ method: 'POST', url: '/api/login', payload: { username: 'bob', password } })
    t.equal(login.statusCode, 401)
    t.equal(login.json().error.code, 'bad_credentials')
    const history = (await as(app, carol, 'GET', '/api/rooms/bobs-room/messages')).json().events
    t.ok(history.some((e: { text: string }) => e.text === 'a word from bob'), 'his messages stay')
    t.match((await as(app, admin, 'GET', '/api/admin/users?q=bob')).json().users, [{ username: 'bob', disabled: true }])
    t.equal((await as(app, admin, 'POST', '/api/admin/users/admin/disable')).statusCode, 403, 'not oneself')
    t.equal((await as(app, admin, 'POST', '/api/admin/users/nobody/disable')).statusCode, 404)
  })

  t.test('enable: sign-in works again; the old sessions and tokens stay ended', async t => {
    t.equal((await as(app, admin, 'POST', '/api/admin/users/bob/enable')).statusCode, 204)
    t.equal((await app.inject({ method: 'POST', url: '/api/login', payload: { username: 'bob', password } })).statusCode, 200)
    t.equal((await as(app, bob, 'GET', '/api/me')).statusCode, 401)
    t.equal((await app.inject({ url: '/api/me', headers: { authorization: `Bearer ${token}` } })).statusCode, 401)
  })
})

t.test('the CLI disables and enables an account (npm run admin -- disable alice)', async t => {
  const database = await createTestDatabase(t)
  const app = await buildTestApp(t, {}, database)
  const alice = await register(app, 'alice')
  const cli = async (...args: string[]): Promise<{ code: number | null, out: string }> => await new Promise(resolve => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/admin.ts', ...args], {
      env: { ...process.env, DATA_DIR: database.dataDir, ...(database.databaseUrl === undefined ? {} : { DATABASE_URL: database.databaseUrl }) }
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { out += d.toString() })
    child.on('exit', code => resolve({ code, out }))
  })
  const disabled = await cli('disable', 'alice')
  t.equal(disabled.code, 0, disabled.out)
  t.match(disabled.out, /alice is disabled/)
  t.equal((await as(app, alice, 'GET', '/api/me')).statusCode, 401, 'the running server refuses her session at once')
  t.equal((await app.inject({ method: 'POST', url: '/api/login', payload: { username: 'alice', password } })).statusCode, 401)
  t.equal((await cli('enable', 'alice')).code, 0)
  t.equal((await app.inject({ method: 'POST', url: '/api/login', payload: { username: 'alice', password } })).statusCode, 200)
  t.equal((await cli('disable', 'nobody')).code, 1)
  t.equal((await cli('frobnicate', 'alice')).code, 2)
})
