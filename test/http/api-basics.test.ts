import t from 'tap'
import { as, buildTestApp, listenOn, register } from '../helper.js'

t.test('OpenAPI document lists every API route', async t => {
  const app = await buildTestApp(t)
  const res = await app.inject({ url: '/api/openapi.json' })
  t.equal(res.statusCode, 200)
  const doc = res.json()
  t.match(doc.openapi, /^3\./)
  const documented = new Set<string>()
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    for (const method of Object.keys(ops)) documented.add(`${method.toUpperCase()} ${path}`)
  }
  const expected = [
    'POST /api/register', 'POST /api/login', 'POST /api/logout', 'GET /api/me', 'POST /api/password', 'POST /api/sessions/revoke',
    'POST /api/tokens', 'GET /api/tokens', 'DELETE /api/tokens/{id}',
    'GET /api/rooms', 'GET /api/rooms/public', 'POST /api/rooms', 'POST /api/rooms/{room}/join', 'POST /api/rooms/{room}/leave',
    'POST /api/rooms/{room}/members', 'GET /api/rooms/{room}/members', 'POST /api/direct',
    'POST /api/rooms/{room}/messages', 'GET /api/rooms/{room}/messages', 'PATCH /api/rooms/{room}/messages/{id}',
    'DELETE /api/rooms/{room}/messages/{id}', 'POST /api/rooms/{room}/read', 'POST /api/rooms/{room}/typing',
    'GET /api/poll', 'GET /api/health'
  ]
  for (const route of expected) t.ok(documented.has(route), route)
})

t.test('over a real socket: method override, CSRF, body limit, unknown routes', async t => {
  const app = await buildTestApp(t, { BODY_LIMIT: '2048' })
  const base = await listenOn(app)
  const alice = await register(app, 'alice')
  await as(app, alice, 'POST', '/api/rooms', { name: 'general' })
  const sent = (await as(app, alice, 'POST', '/api/rooms/general/messages', { text: 'edit me' })).json().event
  const headers = { cookie: alice.cookie, 'content-type': 'application/json' }

  const patched = await fetch(`${base}/api/rooms/general/messages/${sent.id as string}`, { method: 'POST', headers: { ...headers, 'x-http-method-override': 'PATCH' }, body: JSON.stringify({ text: 'edited' }) })
  t.equal(patched.status, 200)
  t.equal((await patched.json()).event.type, 'message.edited')
  const deleted = await fetch(`${base}/api/rooms/general/messages/${sent.id as string}`, { method: 'POST', headers: { ...headers, 'x-http-method-override': 'DELETE' } })
  t.equal(deleted.status, 204)

  const cross = await fetch(`${base}/api/rooms/general/messages`, { method: 'POST', headers: { ...headers, origin: 'https://evil.example' }, body: JSON.stringify({ text: 'csrf' }) })
  t.equal(cross.status, 403)
  t.equal((await cross.json()).error.code, 'csrf')
  const crossReferer = await fetch(`${base}/api/rooms/general/messages`, { method: 'POST', headers: { ...headers, referer: 'https://evil.example/page' }, body: JSON.stringify({ text: 'csrf' }) })
  t.equal(crossReferer.status, 403)
  const same = await fetch(`${base}/api/rooms/general/messages`, { method: 'POST', headers: { ...headers, origin: base }, body: JSON.stringify({ text: 'same origin' }) })
  t.equal(same.status, 201)

  const big = await fetch(`${base}/api/rooms/general/messages`, { method: 'POST', headers, body: JSON.stringify({ text: 'x'.repeat(3000) }) })
  t.equal(big.status, 413)
  t.equal((await big.json()).error.code, 'too_large')

  const missing = await fetch(`${base}/api/nothing-here`)
  t.equal(missing.status, 404)
  t.equal((await missing.json()).error.code, 'not_found')

  const badJson = await fetch(`${base}/api/rooms`, { method: 'POST', headers, body: '{"name": ' })
  t.equal(badJson.status, 400)
  t.equal((await badJson.json()).error.code, 'invalid')

  const health = await fetch(`${base}/api/health`)
  t.same(await health.json(), { status: 'ok' })
})
