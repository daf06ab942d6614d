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
    t.equal(denied.statusCode, 403)
    t.equal(denied.json().error.code, 'forbidden')
    t.notOk((await as(app, bob, 'GET', '/api/rooms/public')).json().rooms.some((r: { name: string }) => r.name === 'secret'))
  })

  t.test('non-members get not_member from room routes', async t => {
    for (const [method, url, body] of [
      ['GET', '/api/rooms/secret/messages', undefined],
      ['POST', '/api/rooms/secret/messages', { text: 'hi' }],
      ['GET', '/api/rooms/secret/members', undefined],
      ['POST', '/api/rooms/secret/members', { username: 'carol' }],
      ['POST', '/api/rooms/secret/leave', undefined],
      ['POST', '/api/rooms/secret/read', { eventId: '1' }],
      ['POST', '/api/rooms/secret/typing', undefined]
    ] as const) {
      const res = await as(app, bob, method, url, body)
      t.equal(res.statusCode, 403, `${method} ${url}`)
      t.equal(res.json().error.code, 'not_member')
    }
    t.equal((await as(app, bob, 'GET', '/api/rooms/nosuchroom/messages')).statusCode, 404)
  })

  t.test('any member may add users to a channel; members list shows online state', async t => {
    const add = await as(app, alice, 'POST', '/api/rooms/secret/members', { username: 'Bob' })
    t.equal(add.statusCode, 201)
    t.equal(add.json().user.username, 'bob')
    t.equal((await as(app, bob, 'POST', '/api/rooms/secret/members', { username: 'carol' })).statusCode, 201)
    t.equal((await as(app, bob, 'POST', '/api/rooms/secret/members', { username: 'nobody' })).statusCode, 404)
    const members = await as(app, carol, 'GET', '/api/rooms/secret/members')
    t.same(members.json().members.map((m: { username: string }) => m.username), ['alice', 'bob', 'carol'])
    t.ok(members.json().members.every((m: { online: unknown }) => typeof m.online === 'boolean'))
  })

  t.test('leave', async t => {
    t.equal((await as(app, carol, 'POST', '/api/rooms/secret/leave')).statusCode, 204)
    t.equal((await as(app, carol, 'GET', '/api/rooms/secret/messages')).statusCode, 403)
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
    t.equal((await as(app, bob, 'GET', `/api/rooms/${a?.json().room.id as string}/messages`)).statusCode, 403)
    t.equal((await as(app, alice, 'POST', `/api/rooms/${a?.json().room.id as string}/members`, { username: 'bob' })).statusCode, 403)
    t.equal((await as(app, alice, 'POST', '/api/direct', { username: 'alice' })).statusCode, 400)
    const rooms = (await as(app, alice, 'GET', '/api/rooms')).json().rooms
    const dm = rooms.find((r: { kind: string }) => r.kind === 'direct')
    t.equal(dm.peer.username, 'carol')
  })
})
