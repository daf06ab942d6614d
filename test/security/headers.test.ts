import t, { type Test } from 'tap'
import type { InjectOptions } from 'fastify'
import { as, buildTestApp, register, testSecret } from '../helper.js'
import { createTestDatabase } from '../helpers/database.js'
import { startChatNode } from '../helpers/server-process.js'

/** Pages, scripts and styles: the web client's strict CSP and the rest of helmet's set. */
function hasDocumentHeaders (t: Test, headers: Record<string, unknown>, label: string): void {
  const csp = String(headers['content-security-policy'])
  t.match(csp, /default-src 'self'/, `${label}: CSP`)
  t.match(csp, /script-src 'self'(;|$)/, `${label}: scripts only from the app`)
  t.match(csp, /object-src 'none'/, `${label}: no plugins`)
  t.match(csp, /frame-ancestors 'none'/, `${label}: not framed`)
  t.notMatch(csp, /unsafe-inline|unsafe-eval/, `${label}: nothing unsafe`)
  t.equal(headers['x-content-type-options'], 'nosniff', `${label}: nosniff`)
  t.equal(headers['x-frame-options'], 'DENY', `${label}: frame denial`)
  t.ok(headers['referrer-policy'], `${label}: referrer policy`)
}

/** JSON answers: OWASP's API set, and none of the headers that only act on pages. */
function hasApiHeaders (t: Test, headers: Record<string, unknown>, label: string): void {
  t.equal(headers['content-security-policy'], "default-src 'none';frame-ancestors 'none'", `${label}: a CSP that allows nothing`)
  t.equal(headers['x-content-type-options'], 'nosniff', `${label}: nosniff`)
  t.equal(headers['x-frame-options'], 'DENY', `${label}: frame denial`)
  t.equal(headers['cross-origin-resource-policy'], 'same-origin', `${label}: kept to its origin`)
  t.equal(headers['referrer-policy'], 'no-referrer', `${label}: referrer policy`)
  for (const pageOnly of ['cross-origin-opener-policy', 'origin-agent-cluster', 'x-dns-prefetch-control', 'x-download-options', 'x-permitted-cross-domain-policies', 'x-xss-protection']) {
    t.equal(headers[pageOnly], undefined, `${label}: no ${pageOnly}`)
  }
}

t.test('security headers on API, static and error answers', async t => {
  const app = await buildTestApp(t, { BODY_LIMIT: '1024' })
  const alice = await register(app, 'alice')
  const answers: Array<[string, InjectOptions, number]> = [
    ['API success', { url: '/api/me', headers: { cookie: alice.cookie } }, 200],
    ['poll', { url: '/api/poll', headers: { cookie: alice.cookie } }, 200],
    ['health', { url: '/api/health' }, 200],
    ['static page', { url: '/' }, 200],
    ['static script', { url: '/app.js' }, 200],
    ['401', { url: '/api/me' }, 401],
    ['403 csrf', { method: 'POST', url: '/api/rooms', headers: { cookie: alice.cookie, origin: 'https://evil.example' }, payload: { name: 'x' } }, 403],
    ['400 invalid', { method: 'POST', url: '/api/rooms', headers: { cookie: alice.cookie }, payload: { name: 'NO SPACES' } }, 400],
    ['400 bad JSON', { method: 'POST', url: '/api/rooms', headers: { cookie: alice.cookie, 'content-type': 'application/json' }, payload: '{"name":' }, 400],
    ['400 undecodable URL', { url: '/api/rooms/%zz/messages', headers: { cookie: alice.cookie } }, 400],
    ['404 API', { url: '/api/no-such-thing', headers: { cookie: alice.cookie } }, 404],
    ['404 static', { url: '/no-such-file.js' }, 404],
    ['413', { method: 'POST', url: '/api/rooms', headers: { cookie: alice.cookie, 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'x'.repeat(2000) }) }, 413],
    ['415', { method: 'POST', url: '/api/rooms', headers: { cookie: alice.cookie, 'content-type': 'application/xml' }, payload: '<x/>' }, 415]
  ]
  for (const [label, request, status] of answers) {
    const res = await app.inject(request)
    t.equal(res.statusCode, status, label)
    const page = label === 'static page' || label === 'static script'
    t.equal(String(res.headers['content-type']).startsWith('application/json'), !page, `${label}: ${page ? 'not ' : ''}JSON`)
    if (page) hasDocumentHeaders(t, res.headers, label)
    else hasApiHeaders(t, res.headers, label)
    if (status >= 400) {
      t.match(res.json(), { error: { code: String, message: String } }, `${label}: the contract's error shape`)
      t.notMatch(res.body, /at .*\.(ts|js):\d+|SELECT|INSERT|Fe26|stack/i, `${label}: no stack, SQL or secret`)
    }
  }
})

t.test('API tokens are stored hashed; the session secret is nowhere in answers', async t => {
  const app = await buildTestApp(t)
  const alice = await register(app, 'alice')
  const created = (await as(app, alice, 'POST', '/api/tokens', { name: 'cron', password: 'correct horse battery' })).json()
  const rows = await app.database.db.selectFrom('api_tokens').selectAll().execute()
  t.equal(rows.length, 1)
  const stored = JSON.stringify(rows)
  t.notMatch(stored, created.token, 'the token itself is not stored')
  t.notMatch(stored, created.token.slice(4, 20), 'nor a piece of it')
  t.match(rows[0]?.token_hash, /^[0-9a-f]{64}$/, 'a SHA-256 digest')
  const users = JSON.stringify(await app.database.db.selectFrom('users').selectAll().execute())
  t.notMatch(users, 'correct horse battery', 'passwords are hashed')
  t.match(users, /scrypt\$/)
  const list = await as(app, alice, 'GET', '/api/tokens')
  t.notMatch(list.body, created.token)
  t.notMatch((await app.inject({ url: '/api/openapi.json' })).body, testSecret)
})

t.test('the request log of a real server holds no cookie, token or password', async t => {
  const database = await createTestDatabase(t)
  const server = await startChatNode(t, database, {
    LOG_LEVEL: 'trace',
    RATE_LIMIT_DISABLED: 'true'
  })
  const password = 'a very secret password 123'
  const reg = await fetch(`${server.url}/api/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'logcheck', password }) })
  t.equal(reg.status, 201)
  const cookie = (reg.headers.get('set-cookie') ?? '').split(';')[0] as string
  const sealed = cookie.slice(cookie.indexOf('=') + 1)
  t.match(sealed, /^Fe26/)
  const token = (await (await fetch(`${server.url}/api/tokens`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'log', password }) })).json()).token as string
  t.equal((await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${token}` } })).status, 200)
  t.equal((await fetch(`${server.url}/api/me`, { headers: { cookie } })).status, 200)
  await fetch(`${server.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json', cookie, authorization: `Bearer ${token}` }, body: JSON.stringify({ username: 'logcheck', password: 'wrong but secret' }) })
  await new Promise(resolve => setTimeout(resolve, 300))
  const log = server.output()
  t.match(log, /\/api\/me/, 'the requests were logged')
  t.notMatch(log, sealed.slice(0, 60), 'no session cookie')
  t.notMatch(log, token, 'no API token')
  t.notMatch(log, password, 'no password')
  t.notMatch(log, 'wrong but secret', 'no password guess')
})
