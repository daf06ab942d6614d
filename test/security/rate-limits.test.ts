import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { as, buildTestApp, register } from '../helper.js'
import { createTestDatabase } from '../helpers/database.js'

const limited = { RATE_LIMIT_DISABLED: 'false' }

function isRateLimited (t: Test, res: { statusCode: number, headers: Record<string, unknown>, json: () => any }, max: number, label: string): void {
  t.equal(res.statusCode, 429, label)
  t.equal(res.json().error.code, 'rate_limited', label)
  const after = Number(res.headers['retry-after'])
  t.ok(Number.isInteger(after) && after >= 1 && after <= max, `${label}: Retry-After ${String(res.headers['retry-after'])}`)
}

const login = async (app: FastifyInstance, username: string, password: string, remoteAddress: string): Promise<any> =>
  await app.inject({ method: 'POST', url: '/api/login', remoteAddress, payload: { username, password } })

t.test('sign-in limits hold across two app instances on one database', async t => {
  const database = await createTestDatabase(t)
  const env = { ...limited, RATE_LOGIN_MAX: '3', RATE_LOGIN_USER_MAX: '3', RATE_LOGIN_WINDOW: '8', RATE_REGISTER_MAX: '2', RATE_REGISTER_WINDOW: '60' }
  const a = await buildTestApp(t, env, database)
  const b = await buildTestApp(t, env, database)
  const nodes = [a, b]
  for (const [i, name] of ['alice', 'bob'].entries()) {
    const res = await nodes[i]!.inject({ method: 'POST', url: '/api/register', remoteAddress: `10.1.0.${i}`, payload: { username: name, password: 'correct horse battery' } })
    t.equal(res.statusCode, 201)
  }

  t.test('login per address: the 4th guess from one address, on either node, is refused', async t => {
    for (let i = 0; i < 3; i++) t.equal((await login(nodes[i % 2]!, `nobody${i}`, 'wrong password', '10.2.0.1')).statusCode, 401)
    isRateLimited(t, await login(b, 'nobody9', 'wrong password', '10.2.0.1'), 8, 'node b')
    isRateLimited(t, await login(a, 'alice', 'correct horse battery', '10.2.0.1'), 8, 'even the right password, meanwhile')
    t.equal((await login(a, 'alice', 'correct horse battery', '10.2.0.2')).statusCode, 200, 'another address is not affected')
  })

  t.test('login per username: guesses spread over addresses and nodes are counted together, briefly', async t => {
    for (let i = 0; i < 3; i++) t.equal((await login(nodes[i % 2]!, 'bob', 'wrong password', `10.3.0.${i}`)).statusCode, 401)
    isRateLimited(t, await login(b, 'BOB', 'wrong password', '10.3.0.99'), 8, 'case does not matter')
    isRateLimited(t, await login(a, 'bob', 'correct horse battery', '10.3.0.100'), 8, 'the owner waits too')
    t.equal((await login(a, 'alice', 'correct horse battery', '10.3.0.101')).statusCode, 200, 'other users are not affected')
    // The lock is short: once the window passes, the owner signs in again.
    await new Promise(resolve => setTimeout(resolve, 8100))
    t.equal((await login(b, 'bob', 'correct horse battery', '10.3.0.102')).statusCode, 200)
  })

  t.test('register per address, across nodes', async t => {
    const reg = async (app: FastifyInstance, username: string): Promise<any> =>
      await app.inject({ method: 'POST', url: '/api/register', remoteAddress: '10.4.0.1', payload: { username, password: 'correct horse battery' } })
    t.equal((await reg(a, 'carol')).statusCode, 201)
    t.equal((await reg(b, 'dave')).statusCode, 201)
    isRateLimited(t, await reg(a, 'erin'), 60, 'third sign-up from one address')
    t.equal(await a.database.db.selectFrom('users').select('id').where('username', '=', 'erin').executeTakeFirst(), undefined, 'nothing stored')
  })
})

t.test('per-user limits: sends, token creation, held polls', async t => {
  const app = await buildTestApp(t, { ...limited, RATE_SEND_MAX: '3', RATE_SEND_WINDOW: '60', RATE_TOKEN_MAX: '2', RATE_TOKEN_WINDOW: '60', MAX_POLLS_PER_USER: '2' })
  const alice = await register(app, 'alice')
  const bob = await register(app, 'bob')
  await as(app, alice, 'POST', '/api/rooms', { name: 'general' })
  await as(app, bob, 'POST', '/api/rooms/general/join')

  t.test('sends per user', async t => {
    for (let i = 0; i < 3; i++) t.equal((await as(app, alice, 'POST', '/api/rooms/general/messages', { text: `m${i}` })).statusCode, 201)
    isRateLimited(t, await as(app, alice, 'POST', '/api/rooms/general/messages', { text: 'one too many' }), 60, 'fourth send')
    t.equal((await as(app, bob, 'POST', '/api/rooms/general/messages', { text: 'bob is fine' })).statusCode, 201, 'another user is not affected')
    const stored = await app.database.db.selectFrom('messages').select('text').where('text', '=', 'one too many').execute()
    t.same(stored, [], 'the refused send stored nothing')
  })

  t.test('token creation per user', async t => {
    for (let i = 0; i < 2; i++) t.equal((await as(app, alice, 'POST', '/api/tokens', { name: `t${i}`, password: 'correct horse battery' })).statusCode, 201)
    isRateLimited(t, await as(app, alice, 'POST', '/api/tokens', { name: 'third', password: 'correct horse battery' }), 60, 'third token')
  })

  t.test('held polls per user: MAX_POLLS_PER_USER, then 429', async t => {
    const head = (await as(app, bob, 'GET', '/api/poll')).json().cursor as string
    const held = [0, 1].map(async () => await as(app, bob, 'GET', `/api/poll?cursor=${head}&timeout=20`))
    for (let i = 0; i < 100 && app.engine.held < 2; i++) await new Promise(resolve => setTimeout(resolve, 20))
    t.equal(app.engine.held, 2)
    isRateLimited(t, await as(app, bob, 'GET', `/api/poll?cursor=${head}&timeout=20`), 60, 'third held poll')
    t.equal((await as(app, bob, 'GET', `/api/poll?cursor=${head}&timeout=0`)).statusCode, 200, 'a short poll is never held, so never refused')
    await as(app, bob, 'POST', '/api/rooms/general/messages', { text: 'release' })
    for (const res of await Promise.all(held)) t.equal(res.statusCode, 200)
  })
})
