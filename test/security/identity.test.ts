import t from 'tap'
import { as, buildTestApp, register } from '../helper.js'

/* Who a request comes from, as the server sees it: display names cannot pose as users, and origins are compared in full. */

t.test('a display name equal to another user\'s username is refused', async t => {
  const app = await buildTestApp(t)
  await register(app, 'alice')
  for (const displayName of ['alice', 'Alice', '@alice', ' ALICE ', 'ａｌｉｃｅ']) {
    const res = await app.inject({ method: 'POST', url: '/api/register', payload: { username: 'eve', password: 'correct horse battery', displayName } })
    t.equal(res.statusCode, 400, JSON.stringify(displayName))
    t.ok('displayName' in (res.json().error.fields ?? {}), 'names displayName')
  }
  const users = await app.database.db.selectFrom('users').select('username').execute()
  t.same(users.map(u => u.username), ['alice'], 'eve was not created')
  const own = await app.inject({ method: 'POST', url: '/api/register', payload: { username: 'bob', password: 'correct horse battery', displayName: 'Bob' } })
  t.equal(own.statusCode, 201, 'one\'s own username, dressed up, is fine')
  const other = await app.inject({ method: 'POST', url: '/api/register', payload: { username: 'eve', password: 'correct horse battery', displayName: 'Alice Smith' } })
  t.equal(other.statusCode, 201, 'a name that is nobody\'s username is fine')
})

t.test('CSRF compares the full origin: scheme, host and port', async t => {
  const write = async (app: Awaited<ReturnType<typeof buildTestApp>>, cookie: string, headers: Record<string, string>): Promise<number> =>
    (await app.inject({ method: 'POST', url: '/api/rooms/general/typing', headers: { cookie, host: 'chat.example', ...headers } })).statusCode

  t.test('directly (no proxy trusted)', async t => {
    const app = await buildTestApp(t)
    const alice = await register(app, 'alice')
    await as(app, alice, 'POST', '/api/rooms', { name: 'general' })
    t.equal(await write(app, alice.cookie, { origin: 'http://chat.example' }), 204, 'same origin')
    t.equal(await write(app, alice.cookie, { origin: 'http://chat.example:80' }), 204, 'the default port spelled out')
    t.equal(await write(app, alice.cookie, { origin: 'https://chat.example' }), 403, 'another scheme')
    t.equal(await write(app, alice.cookie, { origin: 'http://chat.example:8080' }), 403, 'another port')
    t.equal(await write(app, alice.cookie, { referer: 'http://chat.example:8080/page' }), 403, 'another port, by Referer')
    t.equal(await write(app, alice.cookie, { origin: 'https://chat.example', 'x-forwarded-proto': 'https' }), 403, 'an untrusted X-Forwarded-Proto names no origin')
  })

  t.test('behind a trusted proxy, the origin the client used', async t => {
    const app = await buildTestApp(t, { TRUST_PROXY: 'true' })
    const alice = await register(app, 'alice')
    await as(app, alice, 'POST', '/api/rooms', { name: 'general' })
    const proxied = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'chat.example' }
    t.equal(await write(app, alice.cookie, { ...proxied, origin: 'https://chat.example' }), 204)
    t.equal(await write(app, alice.cookie, { ...proxied, origin: 'http://chat.example' }), 403, 'the plain-http page of the same host')
  })

  t.test('ALLOWED_ORIGINS names exact origins', async t => {
    const app = await buildTestApp(t, { ALLOWED_ORIGINS: 'https://app.example.com:8443' })
    const alice = await register(app, 'alice')
    await as(app, alice, 'POST', '/api/rooms', { name: 'general' })
    t.equal(await write(app, alice.cookie, { origin: 'https://app.example.com:8443' }), 204)
    t.equal(await write(app, alice.cookie, { origin: 'https://app.example.com' }), 403, 'same host, another port')
    t.equal(await write(app, alice.cookie, { origin: 'http://app.example.com:8443' }), 403, 'same host and port, another scheme')
  })
})
