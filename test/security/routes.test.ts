import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { as, buildTestApp, register, type Session } from '../helper.js'
import { appRoutes, buildWorld, ignoredRoute, ownWorld, tableCounts } from './world.js'

// Every route, as each kind of caller, each in a fresh world: on MariaDB beside another test file on two
// cores this has taken 476 s, past tap's default file limit.
t.setTimeout(900_000)

/** What a request needs from the world it runs in. */
interface Ctx {
  username: string
  room: string
  messageId: string
  tokenId: string
  otherUser: string
  incomingId: string
  hookSecret: string
  outgoingId: string
  /** An account the administrator routes may disable and enable. */
  victim: string
  inviteCode: string
  /** A file shared in the room: `/api/files/:id/:name` of an attachment. */
  fileId: string
  fresh: () => string
}

interface RouteCase {
  /** Answers without credentials (sign-up, sign-in, sign-out). */
  public?: boolean
  /** A route of one room: a non-member (of the world's private room) is refused with this code. */
  nonMember?: 'not_member' | 'forbidden' | 'not_found'
  /** An account route: a bearer token is refused with 403 forbidden. */
  sessionOnly?: true
  /** Succeeds only with `otherUser` a member of the room (moderation). */
  needsMember?: boolean
  /** Succeeds only with a file shared in the room (`fileId`). */
  needsFile?: true
  /** An administrator's route (the world's first account is one). */
  admin?: boolean
  success: number
  request: (c: Ctx) => Req
}

/** A JSON body as an object; a raw body (an upload's bytes) as a string with its `content-type` in headers. */
interface Req { url: string, payload?: Record<string, unknown> | string, headers?: Record<string, string> }

const password = 'correct horse battery'

/** Every route of the contract. A route the app has and this table lacks fails the test below. */
const table: Record<string, RouteCase> = {
  'POST /api/register': { public: true, success: 201, request: c => ({ url: '/api/register', payload: { username: c.fresh(), password } }) },
  'POST /api/login': { public: true, success: 200, request: c => ({ url: '/api/login', payload: { username: c.username, password } }) },
  'POST /api/logout': { public: true, success: 204, request: () => ({ url: '/api/logout' }) },
  'GET /api/me': { success: 200, request: () => ({ url: '/api/me' }) },
  'POST /api/password': { sessionOnly: true, success: 204, request: () => ({ url: '/api/password', payload: { currentPassword: password, newPassword: 'another password' } }) },
  'POST /api/sessions/revoke': { sessionOnly: true, success: 204, request: () => ({ url: '/api/sessions/revoke' }) },
  'POST /api/tokens': { sessionOnly: true, success: 201, request: () => ({ url: '/api/tokens', payload: { name: 'bot', password } }) },
  'GET /api/tokens': { sessionOnly: true, success: 200, request: () => ({ url: '/api/tokens' }) },
  'DELETE /api/tokens/:id': { sessionOnly: true, success: 204, request: c => ({ url: `/api/tokens/${c.tokenId}` }) },
  'GET /api/rooms': { success: 200, request: () => ({ url: '/api/rooms' }) },
  'GET /api/rooms/public': { success: 200, request: () => ({ url: '/api/rooms/public' }) },
  'POST /api/rooms': { success: 201, request: c => ({ url: '/api/rooms', payload: { name: c.fresh() } }) },
  'POST /api/direct': { success: 201, request: c => ({ url: '/api/direct', payload: { username: c.otherUser } }) },
  // A private room answers a non-member exactly like a room that does not exist.
  'POST /api/rooms/:room/join': { nonMember: 'not_found', success: 200, request: c => ({ url: `/api/rooms/${c.room}/join` }) },
  'POST /api/rooms/:room/leave': { nonMember: 'not_found', success: 204, request: c => ({ url: `/api/rooms/${c.room}/leave` }) },
  'POST /api/rooms/:room/members': { nonMember: 'not_found', success: 201, request: c => ({ url: `/api/rooms/${c.room}/members`, payload: { username: c.otherUser } }) },
  'GET /api/rooms/:room/members': { nonMember: 'not_found', success: 200, request: c => ({ url: `/api/rooms/${c.room}/members` }) },
  'POST /api/rooms/:room/messages': { nonMember: 'not_found', success: 201, request: c => ({ url: `/api/rooms/${c.room}/messages`, payload: { text: 'hi' } }) },
  'GET /api/rooms/:room/messages': { nonMember: 'not_found', success: 200, request: c => ({ url: `/api/rooms/${c.room}/messages` }) },
  'PATCH /api/rooms/:room/messages/:id': { nonMember: 'not_found', success: 200, request: c => ({ url: `/api/rooms/${c.room}/messages/${c.messageId}`, payload: { text: 'edited' } }) },
  'DELETE /api/rooms/:room/messages/:id': { nonMember: 'not_found', success: 204, request: c => ({ url: `/api/rooms/${c.room}/messages/${c.messageId}` }) },
  'POST /api/rooms/:room/read': { nonMember: 'not_found', success: 204, request: c => ({ url: `/api/rooms/${c.room}/read`, payload: { eventId: c.messageId } }) },
  'POST /api/rooms/:room/typing': { nonMember: 'not_found', success: 204, request: c => ({ url: `/api/rooms/${c.room}/typing` }) },
  'PATCH /api/rooms/:room': { nonMember: 'not_found', success: 200, request: c => ({ url: `/api/rooms/${c.room}`, payload: { topic: 'a topic' } }) },
  'DELETE /api/rooms/:room': { nonMember: 'not_found', success: 204, request: c => ({ url: `/api/rooms/${c.room}` }) },
  'POST /api/rooms/:room/roles': { nonMember: 'not_found', needsMember: true, success: 204, request: c => ({ url: `/api/rooms/${c.room}/roles`, payload: { username: c.otherUser, role: 'moderator' } }) },
  'POST /api/rooms/:room/kick': { nonMember: 'not_found', needsMember: true, success: 204, request: c => ({ url: `/api/rooms/${c.room}/kick`, payload: { username: c.otherUser } }) },
  'POST /api/rooms/:room/bans': { nonMember: 'not_found', success: 204, request: c => ({ url: `/api/rooms/${c.room}/bans`, payload: { username: c.otherUser } }) },
  'GET /api/rooms/:room/bans': { nonMember: 'not_found', success: 200, request: c => ({ url: `/api/rooms/${c.room}/bans` }) },
  'DELETE /api/rooms/:room/bans/:username': { nonMember: 'not_found', success: 204, request: c => ({ url: `/api/rooms/${c.room}/bans/${c.otherUser}` }) },
  'POST /api/blocks': { success: 204, request: c => ({ url: '/api/blocks', payload: { username: c.otherUser } }) },
  'GET /api/blocks': { success: 200, request: () => ({ url: '/api/blocks' }) },
  'DELETE /api/blocks/:username': { success: 204, request: c => ({ url: `/api/blocks/${c.otherUser}` }) },
  'POST /api/admin/invites': { admin: true, success: 201, request: () => ({ url: '/api/admin/invites', payload: { uses: 2 } }) },
  'GET /api/admin/invites': { admin: true, success: 200, request: () => ({ url: '/api/admin/invites' }) },
  'DELETE /api/admin/invites/:code': { admin: true, success: 204, request: c => ({ url: `/api/admin/invites/${c.inviteCode}` }) },
  'GET /api/admin/users': { admin: true, success: 200, request: () => ({ url: '/api/admin/users?q=w' }) },
  'POST /api/admin/users/:username/disable': { admin: true, success: 204, request: c => ({ url: `/api/admin/users/${c.victim}/disable` }) },
  'POST /api/admin/users/:username/enable': { admin: true, success: 204, request: c => ({ url: `/api/admin/users/${c.victim}/enable` }) },
  'GET /api/poll': { success: 200, request: () => ({ url: '/api/poll?timeout=0' }) },
  'POST /api/rooms/:room/incoming-webhooks': { nonMember: 'not_found', success: 201, request: c => ({ url: `/api/rooms/${c.room}/incoming-webhooks`, payload: { name: 'ci' } }) },
  'GET /api/rooms/:room/incoming-webhooks': { nonMember: 'not_found', success: 200, request: c => ({ url: `/api/rooms/${c.room}/incoming-webhooks` }) },
  'DELETE /api/rooms/:room/incoming-webhooks/:id': { nonMember: 'not_found', success: 204, request: c => ({ url: `/api/rooms/${c.room}/incoming-webhooks/${c.incomingId}` }) },
  'POST /api/hooks/:secret': { public: true, success: 200, request: c => ({ url: `/api/hooks/${c.hookSecret}`, payload: { text: 'from a hook' } }) },
  'POST /api/rooms/:room/outgoing-webhooks': { nonMember: 'not_found', success: 201, request: c => ({ url: `/api/rooms/${c.room}/outgoing-webhooks`, payload: { url: 'http://93.184.216.34/x' } }) },
  'GET /api/rooms/:room/outgoing-webhooks': { nonMember: 'not_found', success: 200, request: c => ({ url: `/api/rooms/${c.room}/outgoing-webhooks` }) },
  'DELETE /api/rooms/:room/outgoing-webhooks/:id': { nonMember: 'not_found', success: 204, request: c => ({ url: `/api/rooms/${c.room}/outgoing-webhooks/${c.outgoingId}` }) },
  'POST /api/rooms/:room/outgoing-webhooks/:id/resume': { nonMember: 'not_found', success: 204, request: c => ({ url: `/api/rooms/${c.room}/outgoing-webhooks/${c.outgoingId}/resume` }) },
  'POST /api/rooms/:room/attachments': { nonMember: 'not_found', success: 201, request: c => ({ url: `/api/rooms/${c.room}/attachments?filename=note.txt`, payload: 'the bytes of a file', headers: { 'content-type': 'text/plain' } }) },
  // A file's URL names no room: a non-member gets the same 404 as for a file that does not exist.
  'GET /api/files/:id/:name': { nonMember: 'not_found', needsFile: true, success: 200, request: c => ({ url: `/api/files/${c.fileId}/note.txt` }) },
  'GET /api/search': { nonMember: 'not_found', success: 200, request: c => ({ url: `/api/search?q=hello&room=${c.room}` }) }
}

/** Shares a small file in the room, as the raw-bytes upload does; its attachment id. */
async function shareFile (app: FastifyInstance, session: Session, room: string): Promise<string> {
  const res = await app.inject({ method: 'POST', url: `/api/rooms/${room}/attachments?filename=note.txt`, headers: { cookie: session.cookie, 'content-type': 'text/plain' }, payload: 'shared' })
  if (res.statusCode !== 201) throw new Error(`upload: ${res.statusCode} ${res.body}`)
  return res.json().event.attachments[0].id as string
}

const methodOf = (route: string): 'GET' | 'POST' | 'PATCH' | 'DELETE' => route.split(' ')[0] as 'GET' | 'POST' | 'PATCH' | 'DELETE'
let counter = 0
const fresh = (): string => `n${process.pid}x${++counter}`

async function send (app: FastifyInstance, route: string, req: Req, headers: Record<string, string>): Promise<{ statusCode: number, json: () => any, body: string }> {
  return await app.inject({ method: methodOf(route), url: req.url, headers: { ...req.headers, ...headers }, ...(req.payload === undefined ? {} : { payload: req.payload }) })
}

t.test('every route of the contract: credentials, membership, CSRF, success', async t => {
  const app = await buildTestApp(t)
  const world = await buildWorld(app)
  const other = await register(app, 'bystander')
  const victim = await register(app, 'victim')
  const inviteCode = (await as(app, world.owner, 'POST', '/api/admin/invites', {})).json().code as string
  const fileId = await shareFile(app, world.owner, world.room.name)
  const shared: Ctx = { username: 'wowner', room: world.room.name, messageId: world.messageId, tokenId: world.tokenId, otherUser: other.user.username, victim: victim.user.username, inviteCode, incomingId: world.incomingId, hookSecret: world.hookSecret, outgoingId: world.outgoingId, fileId, fresh }

  t.test('the table covers every route the app serves, and nothing else', async t => {
    const served = appRoutes(app).filter(r => !ignoredRoute(r))
    t.ok(served.length >= 20, `found ${served.length} routes`)
    for (const route of served) t.ok(route in table, `${route} is in the security table`)
    for (const route of Object.keys(table)) t.ok(served.includes(route), `${route} is served`)
  })

  t.test('without credentials: 401 unauthenticated (also with a forged cookie or token)', async t => {
    for (const [route, c] of Object.entries(table)) {
      if (c.public === true) continue
      const forged: Array<Record<string, string>> = [{}, { cookie: 'chat_session=Fe26.2**forged' }, { authorization: `Bearer lpc_${'A'.repeat(43)}` }]
      for (const headers of forged) {
        const res = await send(app, route, c.request(shared), headers)
        t.equal(res.statusCode, 401, `${route} ${JSON.stringify(headers)}`)
        t.equal(res.json().error.code, 'unauthenticated', route)
      }
    }
  })

  t.test('as a non-member of a private room: 404 on every room route, as for a room that does not exist', async t => {
    for (const [route, c] of Object.entries(table)) {
      if (c.nonMember === undefined) continue
      const res = await send(app, route, c.request(shared), { cookie: world.outsider.cookie })
      t.equal(res.statusCode, 404, route)
      t.equal(res.json().error.code, c.nonMember, route)
      const none = await send(app, route, c.request({ ...shared, room: 'no-such-room', fileId: '999999999' }), { cookie: world.outsider.cookie })
      t.same(res.json(), none.json(), `${route}: the same answer as for no room (or file) at all`)
    }
  })

  t.test('as a signed-in user who is not an administrator: 403 on every administration route', async t => {
    for (const [route, c] of Object.entries(table)) {
      if (c.admin !== true) continue
      const res = await send(app, route, c.request(shared), { cookie: world.outsider.cookie })
      t.equal(res.statusCode, 403, route)
      t.equal(res.json().error.code, 'forbidden', route)
    }
  })

  t.test('the poll path shows a non-member nothing of a private room', async t => {
    const res = await as(app, world.outsider, 'GET', '/api/poll?cursor=0&timeout=0&limit=500')
    t.equal(res.statusCode, 200)
    t.notOk(res.json().events.some((e: { roomId: string | null }) => e.roomId === world.room.id), 'no event of the room')
    const mine = await as(app, world.owner, 'GET', '/api/poll?cursor=0&timeout=0&limit=500')
    t.ok(mine.json().events.some((e: { roomId: string | null }) => e.roomId === world.room.id), 'the member sees them')
  })

  t.test('a cross-origin cookie write is refused with 403 csrf and changes nothing', async t => {
    const before = await tableCounts(app)
    const crossSite: Array<Record<string, string>> = [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { referer: 'https://evil.example/attack.html' },
      { origin: 'http://localhost:80.evil.example' }
    ]
    for (const [route, c] of Object.entries(table)) {
      if (methodOf(route) === 'GET') continue
      for (const extra of crossSite) {
        const res = await send(app, route, c.request(shared), { cookie: world.owner.cookie, ...extra })
        t.equal(res.statusCode, 403, `${route} ${JSON.stringify(extra)}`)
        t.equal(res.json().error.code, 'csrf', route)
      }
    }
    t.same(await tableCounts(app), before, 'no row was written')
    t.equal((await as(app, world.owner, 'GET', '/api/me')).statusCode, 200, 'the session is intact')
  })

  t.test('a cross-origin GET is only a read: allowed, and the answer is not readable cross-site (no CORS)', async t => {
    const res = await app.inject({ url: '/api/me', headers: { cookie: world.owner.cookie, origin: 'https://evil.example' } })
    t.equal(res.statusCode, 200)
    t.equal(res.headers['access-control-allow-origin'], undefined)
  })

  t.test('with a bearer token: account routes answer 403 forbidden and change nothing, the rest work', async t => {
    const own = await buildWorld(app, fresh())
    const before = await tableCounts(app)
    for (const [route, c] of Object.entries(table)) {
      if (c.sessionOnly !== true) continue
      const ctx: Ctx = { ...shared, tokenId: own.tokenId }
      const res = await send(app, route, c.request(ctx), { authorization: `Bearer ${own.token}` })
      t.equal(res.statusCode, 403, route)
      t.equal(res.json().error.code, 'forbidden', route)
    }
    t.same(await tableCounts(app), before, 'no token made or deleted, no session ended')
    t.equal((await app.inject({ url: '/api/me', headers: { authorization: `Bearer ${own.token}` } })).statusCode, 200, 'the token itself still works')
  })

  t.test('bearer-token writes are exempt from the origin check', async t => {
    const res = await app.inject({
      method: 'POST',
      url: `/api/rooms/${world.room.name}/messages`,
      headers: { authorization: `Bearer ${world.token}`, origin: 'https://evil.example' },
      payload: { text: 'from a script' }
    })
    t.equal(res.statusCode, 201)
  })

  t.test('same-origin cookie writes pass', async t => {
    const res = await app.inject({ method: 'POST', url: `/api/rooms/${world.room.name}/typing`, headers: { cookie: world.owner.cookie, origin: 'http://localhost:80', host: 'localhost' } })
    t.equal(res.statusCode, 204)
  })

  t.test('as a member: the success code of every route', async t => {
    for (const [route, c] of Object.entries(table)) {
      // A world of its own per route: some routes end sessions, leave rooms or delete things.
      const name = fresh()
      const own = await ownWorld(app, name)
      const session: Session = own.owner
      const ctx: Ctx = { username: `${name}owner`, room: own.room.name, messageId: own.messageId, tokenId: own.tokenId, otherUser: other.user.username, victim: victim.user.username, inviteCode, incomingId: own.incomingId, hookSecret: own.hookSecret, outgoingId: own.outgoingId, fileId: c.needsFile === true ? await shareFile(app, own.owner, own.room.name) : '0', fresh }
      if (c.needsMember === true) await as(app, session, 'POST', `/api/rooms/${own.room.name}/members`, { username: other.user.username })
      const res = await send(app, route, c.request(ctx), { cookie: c.admin === true ? world.owner.cookie : session.cookie })
      t.equal(res.statusCode, c.success, `${route}: ${res.body.slice(0, 200)}`)
    }
  })
})

t.test('ALLOWED_ORIGINS admits a named other origin, by Origin or by Referer', async t => {
  const app = await buildTestApp(t, { ALLOWED_ORIGINS: 'https://app.example.com' })
  const alice = await register(app, 'alice')
  for (const headers of [{ origin: 'https://app.example.com' }, { referer: 'https://app.example.com/chat/index.html' }]) {
    const res = await app.inject({ method: 'POST', url: '/api/rooms', headers: { cookie: alice.cookie, ...headers }, payload: { name: fresh() } })
    t.equal(res.statusCode, 201, JSON.stringify(headers))
  }
  const evil = await app.inject({ method: 'POST', url: '/api/rooms', headers: { cookie: alice.cookie, origin: 'https://app.example.com.evil.example' }, payload: { name: fresh() } })
  t.equal(evil.statusCode, 403)
})
