import t, { type Test } from 'tap'
import fc from 'fast-check'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { buildTestApp, listenOn } from '../helper.js'
import { appRoutes, buildWorld, ignoredRoute, tableCounts, type World } from './world.js'

/*
 * Property-based bad input over every route. Each generated request carries at
 * least one certain defect (a bad field, a missing field, a malformed id or
 * cursor, an unreadable body), so none may succeed: every answer must be a 4xx
 * in the contract's shape, never a 5xx, and no table may grow.
 */

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE'
interface Target {
  method: Method
  /** The path with `{room}`, `{id}` placeholders. */
  path: string
  /** A valid body, and for each field a generator of values that field must refuse. */
  body?: Record<string, unknown>
  bad?: Record<string, fc.Arbitrary<unknown>>
  required?: string[]
  /** Query values that must be refused. */
  badQuery?: Record<string, fc.Arbitrary<string>>
  /** The route takes text/plain as the message itself. */
  plainText?: boolean
}

// Values of a type no string field takes (ajv coerces lone scalars, not these).
const wrongType = fc.oneof(
  fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), { minKeys: 0, maxKeys: 3 }),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { minLength: 2, maxLength: 4 }),
  fc.constant([[1]]),
  fc.constant({ toString: 'x' })
)
const nul = fc.string({ maxLength: 20 }).map(s => `${s}\u0000${s}x`)
const huge = (max: number): fc.Arbitrary<string> => fc.integer({ min: max + 1, max: max + 300 }).map(n => 'é'.repeat(n))
const blank = fc.constantFrom('', ' ', '\t\n', '\u00a0\u2003')
const text = (max: number): fc.Arbitrary<unknown> => fc.oneof(wrongType, nul, huge(max), blank)
const line = (max: number): fc.Arbitrary<unknown> => fc.oneof(text(max), fc.string({ maxLength: 10 }).map(s => `${s}\u0007${s}`))
const username = fc.oneof(wrongType, nul, fc.constantFrom('', 'ab', 'a b', 'é-user', 'x'.repeat(33), '../etc', 'a;drop', '\u0000abc'))
const password = fc.oneof(wrongType, fc.string({ maxLength: 7 }), huge(1024))
const roomName = fc.oneof(wrongType, nul, fc.constantFrom('', '123', 'Big', 'a b', 'x'.repeat(65), 'é', 'a/b', '..'))
const id = fc.oneof(wrongType, fc.constantFrom('', '-1', '1.5', '1e3', 'abc', '0x10', '1'.repeat(19), ' 1', '١٢'))

const badRoomRef = fc.oneof(
  fc.string({ minLength: 1, maxLength: 30 }).filter(s => !/^[a-z0-9_-]+$/.test(s)),
  fc.constantFrom('A', 'x'.repeat(65), '%00', '%zz', '%ff%fe', '..%2f..', 'a%2fb', '%C0%AF', '99999999999999', '999999999999999999999')
)
const badMessageId = fc.oneof(
  fc.constantFrom('abc', '-1', '1.5', '1'.repeat(19), '%00', '%zz', '0x1', '999999999'),
  fc.string({ minLength: 1, maxLength: 20 }).filter(s => !/^[0-9]+$/.test(s))
)
const badUsernameParam = fc.constantFrom('ab', 'a%20b', 'x'.repeat(33), '%00', '%zz', '%C3%A9-user', '..%2f..')
const badCursor = fc.oneof(fc.constantFrom('-1', 'abc', '1.5', '1'.repeat(16), ' ', '0x10', '9'.repeat(64), '%00', '%zz'), fc.string({ minLength: 1, maxLength: 70 }).filter(s => !/^[0-9]{1,15}$/.test(s)))
const badLimit = (max: number): fc.Arbitrary<string> => fc.oneof(fc.constantFrom('0', '-5', String(max + 1), '1.5', 'abc', '', '1e9', '99999999999999999999'), fc.integer({ min: max + 1 }).map(String))

function targets (w: World): Target[] {
  return [
    { method: 'POST', path: '/api/register', body: { username: 'newuser', password: 'long enough pw' }, bad: { username, password, displayName: line(64) }, required: ['username', 'password'] },
    { method: 'POST', path: '/api/login', body: { username: w.outsider.user.username, password: 'correct horse battery' }, bad: { username: wrongType, password: fc.oneof(wrongType, huge(1024)) }, required: ['username', 'password'] },
    { method: 'POST', path: '/api/logout' },
    { method: 'GET', path: '/api/me' },
    { method: 'POST', path: '/api/password', body: { currentPassword: 'correct horse battery', newPassword: 'another long password' }, bad: { currentPassword: fc.oneof(wrongType, huge(1024)), newPassword: password }, required: ['currentPassword', 'newPassword'] },
    { method: 'POST', path: '/api/sessions/revoke' },
    { method: 'POST', path: '/api/tokens', body: { name: 'bot', password: 'correct horse battery' }, bad: { name: line(64), password: fc.oneof(wrongType, huge(1024)) }, required: ['name', 'password'] },
    { method: 'GET', path: '/api/tokens' },
    { method: 'DELETE', path: '/api/tokens/{token}' },
    { method: 'GET', path: '/api/rooms' },
    { method: 'GET', path: '/api/rooms/public', badQuery: { limit: badLimit(200), q: fc.constantFrom('', 'x'.repeat(65)), after: fc.constantFrom('', 'x'.repeat(65)) } },
    { method: 'POST', path: '/api/rooms', body: { name: 'fresh-room' }, bad: { name: roomName, visibility: fc.oneof(wrongType, fc.constantFrom('', 'secret', 'PUBLIC', 'public ')) }, required: ['name'] },
    { method: 'POST', path: '/api/direct', body: { username: w.outsider.user.username }, bad: { username }, required: ['username'] },
    { method: 'POST', path: '/api/rooms/{room}/join' },
    { method: 'POST', path: '/api/rooms/{room}/leave' },
    { method: 'POST', path: '/api/rooms/{room}/members', body: { username: w.outsider.user.username }, bad: { username }, required: ['username'] },
    { method: 'GET', path: '/api/rooms/{room}/members' },
    { method: 'POST', path: '/api/rooms/{room}/messages', body: { text: 'hello', clientId: 'c1' }, bad: { text: text(4000), clientId: line(64) }, required: ['text'], plainText: true },
    { method: 'GET', path: '/api/search', badQuery: { q: fc.constantFrom('', 'x'.repeat(201)), limit: badLimit(100), before: fc.constantFrom('', 'abc', '-1') } },
    { method: 'POST', path: '/api/rooms/{room}/attachments' },
    { method: 'GET', path: '/api/files/{id}/{name}' },
    { method: 'GET', path: '/api/rooms/{room}/messages', badQuery: { before: badMessageId.filter(v => !/^[0-9]{1,18}$/.test(v)), limit: badLimit(200) } },
    { method: 'PATCH', path: '/api/rooms/{room}/messages/{id}', body: { text: 'edited' }, bad: { text: text(4000) }, required: ['text'] },
    { method: 'DELETE', path: '/api/rooms/{room}/messages/{id}' },
    { method: 'POST', path: '/api/rooms/{room}/read', body: { eventId: w.messageId }, bad: { eventId: id }, required: ['eventId'] },
    { method: 'POST', path: '/api/rooms/{room}/typing' },
    { method: 'POST', path: '/api/rooms/{room}/incoming-webhooks', body: { name: 'ci' }, bad: { name: line(64) }, required: ['name'] },
    { method: 'GET', path: '/api/rooms/{room}/incoming-webhooks' },
    { method: 'DELETE', path: '/api/rooms/{room}/incoming-webhooks/{id}' },
    { method: 'POST', path: '/api/hooks/{secret}', body: { text: 'hello', username: 'CI' }, bad: { text: text(4000), username: line(64) }, required: ['text'], plainText: true },
    { method: 'POST', path: '/api/rooms/{room}/outgoing-webhooks', body: { url: 'http://93.184.216.34/x' }, bad: { url: fc.oneof(wrongType, nul, blank, fc.constantFrom('ftp://x.example/', 'http://127.0.0.1/', 'http://[::1]/', 'http://10.0.0.1/', 'javascript:alert(1)', `http://x.example/${'a'.repeat(2048)}`)), events: fc.oneof(wrongType, fc.constantFrom([], ['typing'], ['read'], ['message', 'nope'])) }, required: ['url'] },
    { method: 'GET', path: '/api/rooms/{room}/outgoing-webhooks' },
    { method: 'DELETE', path: '/api/rooms/{room}/outgoing-webhooks/{id}' },
    { method: 'POST', path: '/api/rooms/{room}/outgoing-webhooks/{id}/resume' },
    { method: 'PATCH', path: '/api/rooms/{room}', body: { topic: 'a topic' }, bad: { name: roomName, topic: fc.oneof(wrongType, nul, huge(250), fc.constant('a\u0007b')), visibility: fc.oneof(wrongType, fc.constantFrom('', 'secret')) } },
    { method: 'DELETE', path: '/api/rooms/{room}' },
    { method: 'POST', path: '/api/rooms/{room}/roles', body: { username: w.outsider.user.username, role: 'moderator' }, bad: { username, role: fc.oneof(wrongType, fc.constantFrom('', 'owner', 'admin', 'Moderator')) }, required: ['username', 'role'] },
    { method: 'POST', path: '/api/rooms/{room}/kick', body: { username: w.outsider.user.username }, bad: { username }, required: ['username'] },
    { method: 'POST', path: '/api/rooms/{room}/bans', body: { username: w.outsider.user.username }, bad: { username }, required: ['username'] },
    { method: 'GET', path: '/api/rooms/{room}/bans' },
    { method: 'DELETE', path: '/api/rooms/{room}/bans/{username}' },
    { method: 'POST', path: '/api/blocks', body: { username: w.outsider.user.username }, bad: { username }, required: ['username'] },
    { method: 'GET', path: '/api/blocks' },
    { method: 'DELETE', path: '/api/blocks/{username}' },
    { method: 'POST', path: '/api/admin/invites', body: { uses: 1 }, bad: { uses: fc.oneof(wrongType, fc.constantFrom(0, -1, 10001, 1.5, 'x')), expiresInDays: fc.oneof(wrongType, fc.constantFrom(0, 366, 2.5, 'week')) } },
    { method: 'GET', path: '/api/admin/invites' },
    { method: 'DELETE', path: '/api/admin/invites/{code}' },
    { method: 'GET', path: '/api/admin/users', badQuery: { limit: badLimit(200), q: fc.constantFrom('', 'x'.repeat(65)), after: fc.constantFrom('', 'x'.repeat(33)) } },
    { method: 'POST', path: '/api/admin/users/{username}/disable' },
    { method: 'POST', path: '/api/admin/users/{username}/enable' },
    { method: 'GET', path: '/api/poll', badQuery: { cursor: badCursor, limit: badLimit(500), timeout: fc.constantFrom('-1', 'abc', '1.5', '') } }
  ]
}

const routeOf = (x: Target): string => `${x.method} ${x.path.replace(/\{token\}/, ':id').replace(/\{(\w+)\}/g, ':$1')}`

/** One certain defect, and how to put it into a request. */
type Defect =
  | { kind: 'field', field: string, value: unknown, form: boolean }
  | { kind: 'missing', field: string }
  | { kind: 'raw', contentType: string, payload: string | Buffer }
  | { kind: 'param', name: string, value: string }
  | { kind: 'query', name: string, value: string }
  | { kind: 'credentials', headers: Record<string, string> }

// For routes that take no input: credentials that must not pass.
const junkCredentials: fc.Arbitrary<Record<string, string>> = fc.oneof<Array<fc.Arbitrary<Record<string, string>>>>(
  fc.string({ maxLength: 300 }).map(s => ({ cookie: `chat_session=${encodeURIComponent(s)}` })),
  fc.string({ maxLength: 100 }).filter(s => /^[\x21-\x7e]*$/.test(s)).map(s => ({ authorization: `Bearer ${s}` })),
  fc.constantFrom<Record<string, string>>({ cookie: 'chat_session=Fe26.2**x*y*z*1*a*b~2' }, { authorization: 'Basic YWxpY2U6cHc=' }, { authorization: `Bearer lpc_${'A'.repeat(43)}` }, {})
)

const rawBodies = fc.oneof(
  // Malformed or hostile JSON.
  fc.record({ contentType: fc.constant('application/json'), payload: fc.oneof(fc.constantFrom('{', '{"a":', '{"text":"x"', "{'text':'x'}", 'nul\u0000l', '{"text":"a"}}', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}'), fc.string({ minLength: 1, maxLength: 30 }).filter(s => { try { JSON.parse(s); return false } catch { return s.trim() !== '' } })) }),
  // Invalid UTF-8 in every accepted type.
  fc.record({
    contentType: fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', 'text/plain; charset=utf-8'),
    payload: fc.tuple(fc.uint8Array({ maxLength: 20 }), fc.constantFrom([0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80]))
      .map(([junk, bad]) => Buffer.concat([Buffer.from('{"text":"'), Buffer.from(junk.filter(b => b < 0x80 && b !== 0x22 && b !== 0x5c && b >= 0x20)), Buffer.from(bad), Buffer.from('"}')]))
  }),
  // Unknown content types.
  fc.record({ contentType: fc.constantFrom('application/xml', 'multipart/form-data; boundary=x', 'application/octet-stream', 'image/png', 'application/json-patch+json', 'text/html'), payload: fc.constant('{"text":"hi","name":"x"}') }),
  // Bigger than BODY_LIMIT.
  fc.constantFrom('application/json', 'text/plain').map(contentType => ({ contentType, payload: `{"text":"${'x'.repeat(9000)}"}` }))
)

// Deeply nested JSON: readable, but an array where an object belongs (a defect
// only where a body is expected: routes without one ignore whatever is sent).
const nested = fc.oneof(
  fc.integer({ min: 100, max: 5000 }).map(n => ({ contentType: 'application/json', payload: '['.repeat(n) + ']'.repeat(n) })),
  fc.integer({ min: 100, max: 3000 }).map(n => ({ contentType: 'application/json', payload: '{"a":'.repeat(n) + '1' + '}'.repeat(n) }))
)

function defects (x: Target, w: World): fc.Arbitrary<Defect> {
  const options: Array<fc.Arbitrary<Defect>> = []
  if (x.bad !== undefined) {
    for (const [field, values] of Object.entries(x.bad)) {
      options.push(fc.record({ kind: fc.constant('field' as const), field: fc.constant(field), value: values, form: fc.boolean() }))
    }
    for (const field of x.required ?? []) options.push(fc.constant({ kind: 'missing' as const, field }))
    options.push(nested.map(r => ({ kind: 'raw' as const, ...r })))
  }
  if (x.method !== 'GET') options.push(rawBodies.map(r => ({ kind: 'raw' as const, ...r })))
  if (x.path.includes('{room}')) options.push(badRoomRef.map(value => ({ kind: 'param' as const, name: 'room', value })))
  if (x.path.includes('{id}')) options.push(badMessageId.filter(v => v !== w.messageId).map(value => ({ kind: 'param' as const, name: 'id', value })))
  if (x.path.includes('{username}')) options.push(badUsernameParam.map(value => ({ kind: 'param' as const, name: 'username', value })))
  if (x.path.includes('{code}')) options.push(fc.constantFrom('%00', 'a%20b', 'x'.repeat(65), '..%2f..', '%C3%A9', '%zz').map(value => ({ kind: 'param' as const, name: 'code', value })))
  if (x.path.includes('{token}')) options.push(badMessageId.filter(v => v !== w.tokenId).map(value => ({ kind: 'param' as const, name: 'token', value })))
  for (const [name, values] of Object.entries(x.badQuery ?? {})) options.push(values.map(value => ({ kind: 'query' as const, name, value })))
  if (options.length === 0) options.push(junkCredentials.map(headers => ({ kind: 'credentials' as const, headers })))
  return fc.oneof(...options)
}

const encodePath = (v: string): string => /%/.test(v) ? v : encodeURIComponent(v)

function toRequest (x: Target, d: Defect, w: World, credentials: Record<string, string>): InjectOptions {
  // {id} is the message's id: as a webhook id it names none, so webhook routes answer 404 at most.
  const params: Record<string, string> = { name: 'x.png', room: w.room.name, id: w.messageId, token: w.tokenId, secret: w.hookSecret, username: w.outsider.user.username, code: 'no-such-code' }
  if (d.kind === 'param') params[d.name] = d.value
  const path = x.path.replace(/\{(\w+)\}/g, (_, name: string) => encodePath(params[name] as string))
  const query = d.kind === 'query' ? `?${d.name}=${encodeURIComponent(d.value)}` : ''
  if (d.kind === 'credentials') credentials = d.headers
  const base: InjectOptions = { method: x.method, url: path + query, headers: { ...credentials } }
  if (d.kind === 'raw') return { ...base, headers: { ...credentials, 'content-type': d.contentType }, payload: d.payload }
  if (x.body === undefined || x.method === 'GET') return base
  const body: Record<string, unknown> = { ...x.body }
  if (d.kind === 'missing') delete body[d.field]
  if (d.kind === 'field') {
    body[d.field] = d.value
    // Forms carry only strings: a string defect can travel as a form field too.
    if (d.form && typeof d.value === 'string' && !d.value.includes('\u0000')) {
      return { ...base, headers: { ...credentials, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(body as Record<string, string>).toString() }
    }
  }
  return { ...base, headers: { ...credentials, 'content-type': 'application/json' }, payload: JSON.stringify(body) }
}

function isContractError (t: Test, res: { statusCode: number, body: string }, label: string): boolean {
  if (res.statusCode < 400 || res.statusCode >= 500) {
    t.fail(`${label}: answered ${res.statusCode} ${res.body.slice(0, 300)}`)
    return false
  }
  let json: { error?: { code?: unknown, message?: unknown, fields?: unknown } }
  try { json = JSON.parse(res.body) } catch { t.fail(`${label}: not JSON: ${res.body.slice(0, 200)}`); return false }
  const e = json.error
  if (typeof e?.code !== 'string' || !/^[a-z_]+$/.test(e.code) || typeof e.message !== 'string') {
    t.fail(`${label}: not the contract's error shape: ${res.body.slice(0, 200)}`)
    return false
  }
  if (e.code === 'invalid' && (res.statusCode !== 400 || typeof e.fields !== 'object' || e.fields === null)) {
    t.fail(`${label}: invalid without 400 and fields: ${res.body.slice(0, 200)}`)
    return false
  }
  if (/SELECT|INSERT|UPDATE |sqlite|mysql|\.ts:\d+|node_modules/i.test(res.body)) {
    t.fail(`${label}: leaks internals: ${res.body.slice(0, 200)}`)
    return false
  }
  return true
}

async function healthy (t: Test, app: FastifyInstance, w: World): Promise<void> {
  t.equal((await app.inject({ url: '/api/health' })).statusCode, 200, 'health')
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: w.owner.cookie } })).statusCode, 200, 'the member is still signed in')
  const sent = await app.inject({ method: 'POST', url: `/api/rooms/${w.room.name}/messages`, headers: { cookie: w.owner.cookie }, payload: { text: 'still works' } })
  t.equal(sent.statusCode, 201, 'sending still works')
}

t.test('bad input on every route: always a 4xx in the contract shape, nothing stored', async t => {
  const app = await buildTestApp(t, { BODY_LIMIT: '8192' })
  const w = await buildWorld(app)
  const all = targets(w)

  t.test('the generators cover every route the app serves', async t => {
    const served = appRoutes(app).filter(r => !ignoredRoute(r))
    const covered = new Set(all.map(routeOf))
    for (const route of served) t.ok(covered.has(route), route)
  })

  const before = await tableCounts(app)
  const credentials = fc.constantFrom<Record<string, string>>(
    { cookie: w.owner.cookie },
    { cookie: w.owner.cookie },
    { authorization: `Bearer ${w.token}` },
    {},
    { cookie: 'chat_session=%00%ff' },
    { authorization: 'Bearer \u0000' },
    { cookie: w.owner.cookie, origin: 'https://evil.example' }
  )

  t.test('one defect per request, any route, any credentials', async t => {
    let failed = false
    await fc.assert(fc.asyncProperty(
      fc.constantFrom(...all).chain(x => fc.tuple(fc.constant(x), defects(x, w), credentials)),
      async ([x, d, creds]) => {
        const req = toRequest(x, d, w, creds)
        const res = await app.inject(req)
        const ok = isContractError(t, res, `${routeOf(x)} ${JSON.stringify(d).slice(0, 200)}`)
        if (!ok) failed = true
        return ok
      }
    ), { numRuns: 300, interruptAfterTimeLimit: 40000 })
    t.notOk(failed)
  })

  t.test('messages as text/plain: blank, NUL, too long or undecodable text is refused', async t => {
    await fc.assert(fc.asyncProperty(fc.oneof(
      blank.map(s => Buffer.from(s)),
      nul.map(s => Buffer.from(s)),
      huge(4000).map(s => Buffer.from(s)),
      fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom([0xff], [0xc3], [0xe0, 0x80, 0x80])).map(([s, b]) => Buffer.concat([Buffer.from(s), Buffer.from(b)]))
    ), async payload => {
      const res = await app.inject({ method: 'POST', url: `/api/rooms/${w.room.name}/messages`, headers: { cookie: w.owner.cookie, 'content-type': 'text/plain' }, payload })
      return isContractError(t, res, `text/plain ${payload.toString('hex').slice(0, 40)}`)
    }), { numRuns: 100 })
  })

  t.test('the database holds nothing it should not, and the server is healthy', async t => {
    t.same(await tableCounts(app), before, 'no table grew or shrank')
    const stored = await app.database.db.selectFrom('messages').select('text').execute()
    t.same(stored.map(r => r.text), ['hello'], 'only the one real message')
    await healthy(t, app, w)
  })
})

t.test('bad X-HTTP-Method-Override over a real socket', async t => {
  const app = await buildTestApp(t)
  const w = await buildWorld(app)
  const base = await listenOn(app)
  const before = await tableCounts(app)
  const override = fc.oneof(
    fc.constantFrom('GET', 'PUT', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT', 'PATCH, DELETE', 'DELETE\tPATCH', 'POST', '', 'x'.repeat(500)),
    fc.string({ maxLength: 20 }).filter(s => /^[\x21-\x7e]*$/.test(s) && !['PATCH', 'DELETE'].includes(s.trim().toUpperCase()))
  )
  const paths = [`/api/rooms/${w.room.name}/messages/${w.messageId}`, `/api/tokens/${w.tokenId}`, `/api/rooms/${w.room.name}/messages/999999`]
  await fc.assert(fc.asyncProperty(override, fc.constantFrom(...paths), async (value, path) => {
    const res = await fetch(base + path, { method: 'POST', headers: { cookie: w.owner.cookie, 'content-type': 'application/json', 'x-http-method-override': value }, body: '{"text":"overridden"}' })
    return isContractError(t, { statusCode: res.status, body: await res.text() }, `override ${JSON.stringify(value)} ${path}`)
  }), { numRuns: 60 })
  // A GET never becomes a write, whatever it claims.
  for (const value of ['DELETE', 'PATCH']) {
    const res = await fetch(base + paths[0]!, { method: 'GET', headers: { cookie: w.owner.cookie, 'x-http-method-override': value } })
    t.equal(res.status, 404, `GET with override ${value}`)
  }
  t.same(await tableCounts(app), before, 'nothing written or deleted')
  await healthy(t, app, w)
})
