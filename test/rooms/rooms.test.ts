import t from 'tap'
import { as, buildTestApp, register } from '../helper.js'

t.test('rooms', async t => {
  const app = await buildTestApp(t)
  const alice = await register(app, 'alice')
  const bob = await register(app, 'bob')
  const carol = await register(app, 'carol')

  t.test('create a channel: creator is owner and member; names are unique', async t => {
    const res = await as(app, alice, 'POST', '/api/rooms', { name: 'general' })
    t.equal(res.statusCode, 201)
    t.match(res.json().room, { name: 'general', kind: 'channel', visibility: 'public' })
    const again = await as(app, bob, 'POST', '/api/rooms', { name: 'general' })
    t.equal(again.statusCode, 409)
    t.equal(again.json().error.code, 'room_exists')
    const mine = await as(app, alice, 'GET', '/api/rooms')
    t.same(mine.json().rooms.map((r: { name: string }) => r.name), ['general'])
  })

  t.test('room names: a-z 0-9 _ -, 1-64, not only digits', async t => {
    for (const name of ['', '123', 'Big', 'a b', 'x'.repeat(65)]) {
      const res = await as(app, alice, 'POST', '/api/rooms', { name })
      t.equal(res.statusCode, 400, JSON.stringify(name))
      t.equal(res.json().error.code, 'invalid')
      t.ok(res.json().error.fields.name)
    }
    t.equal((await as(app, alice, 'POST', '/api/rooms', { name: 'x'.repeat(64) })).statusCode, 201)
  })

  t.test('two creations of one name racing: exactly one wins', async t => {
    const results = await Promise.all([alice, bob, carol].map(async s => await as(app, s, 'POST', '/api/rooms', { name: 'race' })))
    t.same(results.map(r => r.statusCode).sort(), [201, 409, 409])
  })

  t.test('public channels can be joined by name or id; private ones cannot', async t => {
    const pub = await as(app, bob, 'GET', '/api/rooms/public')
    const general = pub.json().rooms.find((r: { name: string }) => r.name === 'general')
    t.match(general, { visibility: 'public', memberCount: 1, joined: false })
    t.equal((await as(app, bob, 'POST', '/api/rooms/general/join')).statusCode, 200)
    const byId = await as(app, carol, 'POST', `/api/rooms/${general.id as string}/join`)
    t.equal(byId.statusCode, 200)
    t.equal(byId.json().room.name, 'general')
    const priv = await as(app, alice, 'POST', '/api/rooms', { name: 'secret', visibility: 'private' })
    t.equal(priv.json().room.visibility, 'private')
    const denied = await as(app, bob, 'POST', '/api/rooms/secret/join')
    t.equal(denied.statusCode, 404, 'a private channel answers like one that does not exist')
    t.equal(denied.json().error.code, 'not_found')
    t.notOk((await as(app, bob, 'GET', '/api/rooms/public')).json().rooms.some((r: { name: string }) => r.name === 'secret'))
  })

  const roomRoutes = (room: string): Array<readonly ['GET' | 'POST', string, Record<string, string> | undefined]> => [
    ['GET', `/api/rooms/${room}/messages`, undefined],
    ['POST', `/api/rooms/${room}/messages`, { text: 'hi' }],
    ['GET', `/api/rooms/${room}/members`, undefined],
    ['POST', `/api/rooms/${room}/members`, { username: 'carol' }],
    ['POST', `/api/rooms/${room}/leave`, undefined],
    ['POST', `/api/rooms/${room}/read`, { eventId: '1' }],
    ['POST', `/api/rooms/${room}/typing`, undefined]
  ]

  t.test('non-members of a public channel get not_member from its routes', async t => {
    t.equal((await as(app, alice, 'POST', '/api/rooms', { name: 'lobby' })).statusCode, 201)
    for (const [method, url, body] of roomRoutes('lobby')) {
      const res = await as(app, bob, method, url, body)
      t.equal(res.statusCode, 403, `${method} ${url}`)
      t.equal(res.json().error.code, 'not_member')
    }
  })

  t.test('a private channel the caller is not in answers exactly like one that does not exist', async t => {
    for (const [method, url, body] of roomRoutes('secret')) {
      const res = await as(app, bob, method, url, body)
      const none = await as(app, bob, method, url.replace('secret', 'nosuchroom'), body)
      t.equal(res.statusCode, 404, `${method} ${url}`)
      t.same(res.json(), none.json(), `${method} ${url}: same answer as a room that does not exist`)
    }
  })

  t.test('moderators add users to a private channel; members list shows online state and role', async t => {
    const add = await as(app, alice, 'POST', '/api/rooms/secret/members', { username: 'Bob' })
    t.equal(add.statusCode, 201)
    t.equal(add.json().user.username, 'bob')
    const byMember = await as(app, bob, 'POST', '/api/rooms/secret/members', { username: 'carol' })
    t.equal(byMember.statusCode, 403, 'a plain member may not add to a private channel')
    t.equal(byMember.json().error.code, 'forbidden')
    t.equal((await as(app, alice, 'POST', '/api/rooms/secret/members', { username: 'carol' })).statusCode, 201)
    t.equal((await as(app, alice, 'POST', '/api/rooms/secret/members', { username: 'nobody' })).statusCode, 404)
    const members = await as(app, carol, 'GET', '/api/rooms/secret/members')
    t.same(members.json().members.map((m: { username: string, role: string }) => [m.username, m.role]), [['alice', 'owner'], ['bob', 'member'], ['carol', 'member']])
    t.ok(members.json().members.every((m: { online: unknown }) => typeof m.online === 'boolean'))
  })

  t.test('any member may add users to a public channel', async t => {
    t.equal((await as(app, bob, 'POST', '/api/rooms/general/members', { username: 'carol' })).statusCode, 200, 'already a member')
    t.equal((await as(app, alice, 'POST', '/api/rooms', { name: 'open-house' })).statusCode, 201)
    t.equal((await as(app, alice, 'POST', '/api/rooms/open-house/members', { username: 'bob' })).statusCode, 201)
    t.equal((await as(app, bob, 'POST', '/api/rooms/open-house/members', { username: 'carol' })).statusCode, 201)
  })

  t.test('leave', async t => {
    t.equal((await as(app, carol, 'POST', '/api/rooms/secret/leave')).statusCode, 204)
    t.equal((await as(app, carol, 'GET', '/api/rooms/secret/messages')).statusCode, 404)
  })

  t.test('direct rooms: one per pair, also when both open it at once', async t => {
    const [a, b] = await Promise.all([
      as(app, alice, 'POST', '/api/direct', { username: 'carol' }),
      as(app, carol, 'POST', '/api/direct', { username: 'alice' })
    ])
    t.same([a?.statusCode, b?.statusCode].sort(), [200, 201])
    t.equal(a?.json().room.id, b?.json().room.id)
    t.equal(a?.json().room.kind, 'direct')
    const again = await as(app, alice, 'POST', '/api/direct', { username: 'CAROL' })
    t.equal(again.statusCode, 200)
    t.equal(again.json().room.id, a?.json().room.id)
    t.equal((await as(app, bob, 'GET', `/api/rooms/${a?.json().room.id as string}/messages`)).statusCode, 404)
    t.equal((await as(app, alice, 'POST', `/api/rooms/${a?.json().room.id as string}/members`, { username: 'bob' })).statusCode, 403)
    t.equal((await as(app, alice, 'POST', '/api/direct', { username: 'alice' })).statusCode, 400)
    const rooms = (await as(app, alice, 'GET', '/api/rooms')).json().rooms
    const dm = rooms.find((r: { kind: string }) => r.kind === 'direct')
    t.equal(dm.peer.username, 'carol')
  })
})
