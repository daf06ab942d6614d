import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from '../helper.js'
import { addressKey } from '../../src/http/address.js'

/* Sign-in limits an attacker cannot turn against the account owner, nor dodge with a fresh IPv6 address. */

const password = 'correct horse battery'
const limited = { RATE_LIMIT_DISABLED: 'false' }

const login = async (app: FastifyInstance, username: string, pw: string, remoteAddress: string): Promise<any> =>
  await app.inject({ method: 'POST', url: '/api/login', remoteAddress, payload: { username, password: pw } })
const registerFrom = async (app: FastifyInstance, username: string, remoteAddress: string): Promise<any> =>
  await app.inject({ method: 'POST', url: '/api/register', remoteAddress, payload: { username, password } })
const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

t.test('wrong passwords slow the guesser, not the owner', async t => {
  const app = await buildTestApp(t, { ...limited, LOGIN_FREE_FAILURES: '10', RATE_LOGIN_MAX: '1000' })
  t.equal((await registerFrom(app, 'alice', '10.0.0.1')).statusCode, 201)
  for (let i = 0; i < 10; i++) t.equal((await login(app, 'alice', `guess ${i}`, '10.9.9.9')).statusCode, 401, `guess ${i}`)
  const held = await login(app, 'alice', 'guess 10', '10.9.9.9')
  t.equal(held.statusCode, 429, 'the guesser waits')
  t.equal(held.json().error.code, 'rate_limited')
  t.equal(held.headers['retry-after'], '1', 'one second after the free failures')
  t.equal((await login(app, 'alice', password, '10.0.0.1')).statusCode, 200, 'the owner signs in from their own address at once')
  await sleep(1100)
  t.equal((await login(app, 'alice', 'guess 11', '10.9.9.9')).statusCode, 401)
  t.equal((await login(app, 'alice', 'guess 12', '10.9.9.9')).headers['retry-after'], '2', 'the delay doubles')
  t.equal((await login(app, 'alice', password, '10.9.9.9')).statusCode, 429, 'even the right password waits at that address')

  // An unknown username is treated exactly alike: delays reveal nobody.
  for (let i = 0; i < 10; i++) t.equal((await login(app, 'nobody', `guess ${i}`, '10.9.9.9')).statusCode, 401)
  const unknown = await login(app, 'nobody', 'guess 10', '10.9.9.9')
  t.equal(unknown.statusCode, 429)
  t.equal(unknown.headers['retry-after'], '1')
})

t.test('a right password clears the count', async t => {
  const app = await buildTestApp(t, { ...limited, LOGIN_FREE_FAILURES: '3' })
  await registerFrom(app, 'bob', '10.0.0.2')
  for (let i = 0; i < 2; i++) await login(app, 'bob', 'typo', '10.0.0.2')
  t.equal((await login(app, 'bob', password, '10.0.0.2')).statusCode, 200)
  for (let i = 0; i < 2; i++) t.equal((await login(app, 'bob', 'typo', '10.0.0.2')).statusCode, 401, 'counting starts again')
})

t.test('IPv6 addresses count by their /64', async t => {
  t.equal(addressKey('2001:db8:1:2::1'), '2001:db8:1:2::/64')
  t.equal(addressKey('2001:0db8:0001:0002:ffff:1:2:3'), '2001:db8:1:2::/64')
  t.equal(addressKey('::ffff:192.0.2.7'), '192.0.2.7')
  t.equal(addressKey('::1'), '::1', 'loopback is one host, not a /64')
  t.equal(addressKey('192.0.2.7'), '192.0.2.7')
  const app = await buildTestApp(t, { ...limited, RATE_REGISTER_MAX: '2', RATE_REGISTER_WINDOW: '600' })
  t.equal((await registerFrom(app, 'carol', '2001:db8:1:2::1')).statusCode, 201)
  t.equal((await registerFrom(app, 'dave', '2001:db8:1:2::2')).statusCode, 201)
  t.equal((await registerFrom(app, 'erin', '2001:db8:1:2:ffff:ffff:ffff:9')).statusCode, 429, 'a third address of the same /64')
  t.equal((await registerFrom(app, 'erin', '2001:db8:1:3::1')).statusCode, 201, 'the next /64 is another client')
})

t.test('one address cannot fill the hashing queue', async t => {
  const app = await buildTestApp(t, { ...limited, MAX_HASHING_PER_ADDRESS: '2', PASSWORD_HASH_CONCURRENCY: '1', RATE_LOGIN_MAX: '1000', RATE_LOGIN_USER_MAX: '1000' })
  await registerFrom(app, 'frank', '10.0.0.3')
  const flood = Array.from({ length: 12 }, async (_, i) => await login(app, `random${i}`, 'whatever pw', '10.6.6.6'))
  const owner = login(app, 'frank', password, '10.0.0.3')
  const answers = await Promise.all(flood)
  const codes = answers.map(r => r.statusCode)
  t.ok(codes.filter(c => c === 429).length >= 8, `most of the flood is refused before hashing: ${codes.join(' ')}`)
  t.ok(codes.every(c => c === 401 || c === 429), 'never a 503 or 500')
  t.equal((await owner).statusCode, 200, 'a real user from elsewhere signs in meanwhile')
})

t.test('any sign-in name, in any script, is a 401, never a 500', async t => {
  const app = await buildTestApp(t, limited)
  for (const name of ['élodie', '用户名', 'x'.repeat(300), '😀😀😀', 'a\u0301b']) {
    const res = await login(app, name, 'some password', '10.0.0.4')
    t.equal(res.statusCode, 401, name.slice(0, 20))
    t.equal(res.json().error.code, 'bad_credentials')
  }
})
