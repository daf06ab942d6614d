import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { as, buildTestApp, register, type Session } from '../helper.js'

type Role = 'owner' | 'moderator' | 'member' | 'admin' | 'outsider'
const roles: Role[] = ['owner', 'moderator', 'member', 'admin', 'outsider']

/** One room's cast: the acting users, and the ids of messages an action works on. */
interface Scene { room: string, victimMessage: string, actorMessage: (role: Role) => string | undefined }

interface Action {
  request: (s: Scene, role: Role) => { method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: Record<string, unknown> }
  /** Per role: the success status, or the error code. */
  expect: Record<Role, number | string>
}

const allowAll = (ok: number): Record<Role, number | string> => ({ owner: ok, moderator: ok, member: ok, admin: ok, outsider: 'not_member' })
const moderators = (ok: number): Record<Role, number | string> => ({ owner: ok, moderator: ok, member: 'forbidden', admin: ok, outsider: 'not_member' })
const owners = (ok: number): Record<Role, number | string> => ({ owner: ok, moderator: 'forbidden', member: 'forbidden', admin: ok, outsider: 'not_member' })

/** The rules of API.md "Roles and moderation", as a table: action × role → allowed (status) or the error. */
const actions: Record<string, Action> = {
  'edit the room (PATCH)': { request: s => ({ method: 'PATCH', url: `/api/rooms/${s.room}`, payload: { topic: 'new topic' } }), expect: moderators(200) },
  'name a moderator': { request: s => ({ method: 'POST', url: `/api/rooms/${s.room}/roles`, payload: { username: 'victim', role: 'moderator' } }), expect: owners(204) },
  'change the owner\'s role': { request: s => ({ method: 'POST', url: `/api/rooms/${s.room}/roles`, payload: { username: 'owner', role: 'member' } }), expect: { ...owners(0), owner: 'forbidden', admin: 'forbidden' } },
  'kick a member': { request: s => ({ method: 'POST', url: `/api/rooms/${s.room}/kick`, payload: { username: 'victim' } }), expect: moderators(204) },
  'kick a moderator': { request: s => ({ method: 'POST', url: `/api/rooms/${s.room}/kick`, payload: { username: 'moderator' } }), expect: { ...owners(204) } },
  'kick the owner': { request: s => ({ method: 'POST', url: `/api/rooms/${s.room}/kick`, payload: { username: 'owner' } }), expect: { ...moderators(0), owner: 'forbidden', moderator: 'forbidden', admin: 'forbidden' } },
  'ban a member': { request: s => ({ method: 'POST', url: `/api/rooms/${s.room}/bans`, payload: { username: 'victim' } }), expect: moderators(204) },
  'ban the owner': { request: s => ({ method: 'POST', url: `/api/rooms/${s.room}/bans`, payload: { username: 'owner' } }), expect: { ...moderators(0), owner: 'forbidden', moderator: 'forbidden', admin: 'forbidden' } },
  'list bans': { request: s => ({ method: 'GET', url: `/api/rooms/${s.room}/bans` }), expect: moderators(200) },
  'lift a ban': { request: s => ({ method: 'DELETE', url: `/api/rooms/${s.room}/bans/victim` }), expect: moderators(204) },
  'archive the room': { request: s => ({ method: 'DELETE', url: `/api/rooms/${s.room}` }), expect: owners(204) },
  'delete another\'s message': { request: s => ({ method: 'DELETE', url: `/api/rooms/${s.room}/messages/${s.victimMessage}` }), expect: moderators(204) },
  'edit another\'s message': { request: s => ({ method: 'PATCH', url: `/api/rooms/${s.room}/messages/${s.victimMessage}`, payload: { text: 'rewritten' } }), expect: { ...allowAll(0), owner: 'forbidden', moderator: 'forbidden', member: 'forbidden', admin: 'forbidden' } },
  'edit one\'s own message': { request: (s, role) => ({ method: 'PATCH', url: `/api/rooms/${s.room}/messages/${s.actorMessage(role) ?? s.victimMessage}`, payload: { text: 'fixed' } }), expect: allowAll(200) },
  'delete one\'s own message': { request: (s, role) => ({ method: 'DELETE', url: `/api/rooms/${s.room}/messages/${s.actorMessage(role) ?? s.victimMessage}` }), expect: allowAll(204) },
  'add a user to a public channel': { request: s => ({ method: 'POST', url: `/api/rooms/${s.room}/members`, payload: { username: 'newcomer' } }), expect: allowAll(201) }
}

interface Cast { users: Record<Role | 'victim' | 'newcomer', Session> }

let roomCounter = 0
/** A fresh public channel: owner created it, moderator named, member, admin and victim joined, messages posted. */
async function stage (app: FastifyInstance, cast: Cast): Promise<Scene> {
  const { users } = cast
  const room = `room-${++roomCounter}`
  const ok = async (res: Promise<{ statusCode: number, body: string }>, want: number): Promise<void> => {
    const r = await res
    if (r.statusCode !== want) throw new Error(`setup: ${r.statusCode} ${r.body}`)
  }
  await ok(as(app, users.owner, 'POST', '/api/rooms', { name: room }), 201)
  for (const who of ['moderator', 'member', 'admin', 'victim'] as const) await ok(as(app, users[who], 'POST', `/api/rooms/${room}/join`), 200)
  await ok(as(app, users.owner, 'POST', `/api/rooms/${room}/roles`, { username: 'moderator', role: 'moderator' }), 204)
  const victimMessage = (await as(app, users.victim, 'POST', `/api/rooms/${room}/messages`, { text: 'mine' })).json().event.id as string
  const own = new Map<Role, string>()
  for (const who of ['owner', 'moderator', 'member', 'admin'] as const) {
    own.set(who, (await as(app, users[who], 'POST', `/api/rooms/${room}/messages`, { text: `by ${who}` })).json().event.id as string)
  }
  return { room, victimMessage, actorMessage: role => own.get(role) }
}

async function castOf (app: FastifyInstance): Promise<Cast> {
  // The first account is the site's administrator.
  const admin = await register(app, 'admin')
  const [owner, moderator, member, outsider, victim, newcomer] = await Promise.all(
    ['owner', 'moderator', 'member', 'outsider', 'victim', 'newcomer'].map(async name => await register(app, name)))
  return { users: { admin, owner: owner!, moderator: moderator!, member: member!, outsider: outsider!, victim: victim!, newcomer: newcomer! } }
}

/** Everything the user's polls would have received, following cursors from the start. */
async function pollAll (app: FastifyInstance, s: Session): Promise<Array<Record<string, any>>> {
  const events: Array<Record<string, any>> = []
  let cursor = '0'
  for (;;) {
    const page = (await as(app, s, 'GET', `/api/poll?cursor=${cursor}&timeout=0&limit=500`)).json()
    events.push(...page.events)
    if (page.hasMore !== true) return events
    cursor = page.cursor
  }
}

t.test('roles and moderation', async t => {
  const app = await buildTestApp(t)
  const cast = await castOf(app)
  const { users } = cast

  t.test('action × role → allowed or the error', async t => {
    for (const [name, action] of Object.entries(actions)) {
      for (const role of roles) {
        const want = action.expect[role]
        const scene = await stage(app, cast)
        const req = action.request(scene, role)
        const res = await as(app, users[role], req.method, req.url, req.payload)
        if (typeof want === 'number') t.equal(res.statusCode, want, `${name} as ${role}: ${res.body.slice(0, 120)}`)
        else t.equal(res.json().error?.code, want, `${name} as ${role}: ${res.statusCode}`)
      }
    }
  })

  t.test('every change is an event in the room\'s stream, naming who and whom', async t => {
    const s = await stage(app, cast)
    const head = (await as(app, users.member, 'GET', '/api/poll')).json().cursor as string
    t.equal((await as(app, users.moderator, 'PATCH', `/api/rooms/${s.room}`, { topic: 'Weekly sync', visibility: 'public' })).statusCode, 200)
    t.equal((await as(app, users.owner, 'POST', `/api/rooms/${s.room}/roles`, { username: 'member', role: 'moderator' })).statusCode, 204)
    t.equal((await as(app, users.owner, 'POST', `/api/rooms/${s.room}/roles`, { username: 'member', role: 'member' })).statusCode, 204)
    t.equal((await as(app, users.moderator, 'DELETE', `/api/rooms/${s.room}/messages/${s.victimMessage}`)).statusCode, 204)
    t.equal((await as(app, users.moderator, 'POST', `/api/rooms/${s.room}/kick`, { username: 'victim' })).statusCode, 204)
    const events = (await as(app, users.member, 'GET', `/api/poll?cursor=${head}&timeout=0`)).json().events as Array<Record<string, any>>
    const mod = { id: users.moderator.user.id, username: 'moderator' }
    t.match(events.find(e => e.type === 'room.updated'), { user: mod, room: { name: s.room, topic: 'Weekly sync' } })
    t.match(events.filter(e => e.type === 'member.role'), [
      { user: { username: 'owner' }, target: { username: 'member' }, role: 'moderator' },
      { user: { username: 'owner' }, target: { username: 'member' }, role: 'member' }
    ])
    t.match(events.find(e => e.type === 'message.deleted'), { messageId: s.victimMessage, user: mod, by: mod })
    t.match(events.find(e => e.type === 'member.left'), { user: { username: 'victim' }, target: { username: 'victim' }, by: mod })
    const rooms = (await as(app, users.member, 'GET', '/api/rooms')).json().rooms
    t.equal(rooms.find((r: { name: string }) => r.name === s.room).topic, 'Weekly sync')
    // The kicked user sees the kick, and nothing of the room after it.
    t.equal((await as(app, users.moderator, 'POST', `/api/rooms/${s.room}/messages`, { text: 'after the kick' })).statusCode, 201)
    const theirs = (await pollAll(app, users.victim)).filter(e => e.roomId === events[0]?.roomId)
    t.equal(theirs.at(-1)?.type, 'member.left', 'their own member.left is the last event of the room they see')
    t.equal((await as(app, users.victim, 'GET', `/api/rooms/${s.room}/messages`)).json().error.code, 'not_member')
  })

  t.test('bans hold: a banned user cannot join, be added or post, until the ban is lifted', async t => {
    const s = await stage(app, cast)
    t.equal((await as(app, users.moderator, 'POST', `/api/rooms/${s.room}/bans`, { username: 'victim' })).statusCode, 204)
    const events = (await pollAll(app, users.member)).filter(e => e.type === 'member.banned' || (e.type === 'member.left' && e.user.username === 'victim'))
    t.match(events.slice(-2), [{ type: 'member.banned', target: { username: 'victim' }, by: { username: 'moderator' } }, { type: 'member.left', by: { username: 'moderator' } }])
    for (const [who, method, url, body] of [
      [users.victim, 'POST', `/api/rooms/${s.room}/join`, undefined],
      [users.owner, 'POST', `/api/rooms/${s.room}/members`, { username: 'victim' }],
      [users.victim, 'POST', `/api/rooms/${s.room}/messages`, { text: 'let me back' }]
    ] as const) {
      const res = await as(app, who, method, url, body)
      t.equal(res.statusCode, 403, url)
      t.equal(res.json().error.code, 'banned', url)
    }
    const bans = (await as(app, users.owner, 'GET', `/api/rooms/${s.room}/bans`)).json().bans
    t.match(bans, [{ user: { username: 'victim' }, by: { username: 'moderator' } }])
    t.ok(typeof bans[0].createdAt === 'string')
    t.equal((await as(app, users.moderator, 'DELETE', `/api/rooms/${s.room}/bans/victim`)).statusCode, 204)
    t.same((await as(app, users.owner, 'GET', `/api/rooms/${s.room}/bans`)).json().bans, [])
    t.equal((await as(app, users.victim, 'POST', `/api/rooms/${s.room}/join`)).statusCode, 200)
  })

  t.test('an archived room is read-only, out of every list, its history still readable by members', async t => {
    const s = await stage(app, cast)
    t.equal((await as(app, users.owner, 'DELETE', `/api/rooms/${s.room}`)).statusCode, 204)
    t.match((await pollAll(app, users.member)).filter(e => e.type === 'room.archived').at(-1), { user: { username: 'owner' }, room: { name: s.room } })
    const history = await as(app, users.member, 'GET', `/api/rooms/${s.room}/messages`)
    t.equal(history.statusCode, 200)
    t.ok(history.json().events.length >= 5)
    for (const [method, url, body] of [
      ['POST', `/api/rooms/${s.room}/messages`, { text: 'still here?' }],
      ['PATCH', `/api/rooms/${s.room}/messages/${s.actorMessage('member') ?? ''}`, { text: 'edit' }],
      ['DELETE', `/api/rooms/${s.room}/messages/${s.actorMessage('member') ?? ''}`, undefined],
      ['POST', `/api/rooms/${s.room}/typing`, undefined],
      ['POST', `/api/rooms/${s.room}/members`, { username: 'newcomer' }],
      ['PATCH', `/api/rooms/${s.room}`, { topic: 'x' }]
    ] as const) {
      const who = url.endsWith(s.room) ? users.owner : users.member
      const res = await as(app, who, method, url, body)
      t.equal(res.statusCode, 403, `${method} ${url}`)
      t.equal(res.json().error.code, 'forbidden', `${method} ${url}`)
    }
    t.equal((await as(app, users.newcomer, 'POST', `/api/rooms/${s.room}/join`)).json().error.code, 'forbidden')
    t.notOk((await as(app, users.member, 'GET', '/api/rooms')).json().rooms.some((r: { name: string }) => r.name === s.room))
    t.notOk((await as(app, users.newcomer, 'GET', `/api/rooms/public?q=${s.room}`)).json().rooms.some((r: { name: string }) => r.name === s.room))
  })
})
