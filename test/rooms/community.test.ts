import t from 'tap'
import { as, buildTestApp, register } from '../helper.js'

t.test('room floods (17.4): created channels count; empty channels are archived; the public list pages', async t => {
  const app = await buildTestApp(t, { MAX_ROOMS_PER_USER: '3' })
  const [alice, bob] = await Promise.all([register(app, 'alice'), register(app, 'bob')])

  t.test('channels created count against MAX_ROOMS_PER_USER whether or not still a member', async t => {
    for (const name of ['gone-1', 'gone-2', 'gone-3']) {
      t.equal((await as(app, alice, 'POST', '/api/rooms', { name })).statusCode, 201)
      t.equal((await as(app, alice, 'POST', `/api/rooms/${name}/leave`)).statusCode, 204)
    }
    const fourth = await as(app, alice, 'POST', '/api/rooms', { name: 'gone-4' })
    t.equal(fourth.statusCode, 403)
    t.equal(fourth.json().error.code, 'forbidden')
  })

  t.test('a channel whose last member leaves is archived: out of the list, cannot be joined', async t => {
    const list = (await as(app, bob, 'GET', '/api/rooms/public')).json()
    t.notOk(list.rooms.some((r: { name: string }) => r.name.startsWith('gone-')))
    const join = await as(app, bob, 'POST', '/api/rooms/gone-1/join')
    t.equal(join.statusCode, 403)
    t.equal(join.json().error.code, 'forbidden')
  })

  t.test('direct rooms count toward the quota too', async t => {
    const others = await Promise.all(['d1', 'd2', 'd3'].map(async n => await register(app, `peer-${n}`)))
    const results = []
    for (const o of others) results.push((await as(app, bob, 'POST', '/api/direct', { username: o.user.username })).statusCode)
    t.same(results, [201, 201, 201])
    for (const o of others.slice(0, 2)) {
      const room = (await as(app, bob, 'POST', '/api/direct', { username: o.user.username })).json().room.id as string
      t.equal((await as(app, bob, 'POST', `/api/rooms/${room}/leave`)).statusCode, 204)
    }
    const more = await register(app, 'peer-d4')
    const res = await as(app, bob, 'POST', '/api/direct', { username: more.user.username })
    t.equal(res.statusCode, 403, 'three rooms created: no fourth, though bob is in only one')
    t.equal((await as(app, bob, 'POST', '/api/rooms', { name: 'bobs' })).statusCode, 403)
  })

  t.test('GET /api/rooms/public: q, after, limit, next', async t => {
    const carol = await register(app, 'carol')
    const dave = await register(app, 'dave')
    for (const name of ['ab_1', 'ab-2', 'abx3']) t.equal((await as(app, carol, 'POST', '/api/rooms', { name })).statusCode, 201)
    for (const name of ['zz-a', 'zz-b']) t.equal((await as(app, dave, 'POST', '/api/rooms', { name })).statusCode, 201)
    // Pages follow the database's name order (MySQL's collation puts `_` before `-`, SQLite's bytes the other way).
    const full = (await as(app, bob, 'GET', '/api/rooms/public')).json()
    t.equal(full.next, null)
    const names = full.rooms.map((r: { name: string }) => r.name)
    t.same([...names].sort(), ['ab-2', 'ab_1', 'abx3', 'zz-a', 'zz-b'])
    const paged: string[] = []
    let after: string | null = null
    for (let pages = 0; pages < 5; pages++) {
      const page: { rooms: Array<{ name: string }>, next: string | null } = (await as(app, bob, 'GET', `/api/rooms/public?limit=2${after === null ? '' : `&after=${after}`}`)).json()
      t.ok(page.rooms.length <= 2)
      paged.push(...page.rooms.map((r: { name: string }) => r.name))
      if (page.next === null) break
      t.equal(page.next, paged.at(-1), 'next is the last name of the page')
      after = page.next
    }
    t.same(paged, names, 'three pages of two give every room once, in order')
    // `_` is a name character here, not LIKE's wildcard.
    t.same((await as(app, bob, 'GET', '/api/rooms/public?q=b_')).json().rooms.map((r: { name: string }) => r.name), ['ab_1'])
    t.same((await as(app, bob, 'GET', '/api/rooms/public?q=ZZ')).json().rooms.map((r: { name: string }) => r.name), ['zz-a', 'zz-b'])
    t.match((await as(app, bob, 'GET', '/api/rooms/public?q=abx')).json().rooms, [{ name: 'abx3', memberCount: 1, joined: false, topic: null }])
    for (const bad of ['limit=0', 'limit=201', 'limit=x', 'q=', `q=${'a'.repeat(65)}`]) {
      const res = await as(app, bob, 'GET', `/api/rooms/public?${bad}`)
      t.equal(res.statusCode, 400, bad)
      t.equal(res.json().error.code, 'invalid', bad)
    }
  })
})

t.test('blocks and direct rooms (17.8)', async t => {
  const app = await buildTestApp(t)
  const [alice, bob, carol] = await Promise.all([register(app, 'alice'), register(app, 'bob'), register(app, 'carol')])
  const dm = (await as(app, bob, 'POST', '/api/direct', { username: 'alice' })).json().room.id as string

  t.test('a blocked user can no longer open or write in a direct room with the blocker', async t => {
    t.equal((await as(app, alice, 'POST', '/api/blocks', { username: 'Bob' })).statusCode, 204)
    t.match((await as(app, alice, 'GET', '/api/blocks')).json(), { blocks: [{ user: { username: 'bob' } }] })
    for (const [method, url, body] of [
      ['POST', '/api/direct', { username: 'alice' }],
      ['POST', `/api/rooms/${dm}/messages`, { text: 'hello?' }],
      ['POST', `/api/rooms/${dm}/typing`, undefined]
    ] as const) {
      const res = await as(app, bob, method, url, body)
      t.equal(res.statusCode, 403, url)
      t.equal(res.json().error.code, 'forbidden', url)
    }
    t.equal((await as(app, bob, 'GET', `/api/rooms/${dm}/messages`)).statusCode, 200, 'reading what was said stays possible')
    t.equal((await as(app, bob, 'POST', '/api/direct', { username: 'carol' })).statusCode, 201, 'others are not affected')
    t.equal((await as(app, alice, 'POST', '/api/blocks', { username: 'alice' })).statusCode, 400)
    t.equal((await as(app, alice, 'POST', '/api/blocks', { username: 'nobody' })).statusCode, 404)
    t.equal((await as(app, alice, 'DELETE', '/api/blocks/bob')).statusCode, 204)
    t.same((await as(app, alice, 'GET', '/api/blocks')).json().blocks, [])
    t.equal((await as(app, bob, 'POST', `/api/rooms/${dm}/messages`, { text: 'hello again' })).statusCode, 201)
  })

  t.test('leaving a direct room is final until the leaver opens it again', async t => {
    const room = (await as(app, carol, 'POST', '/api/direct', { username: 'alice' })).json().room.id as string
    t.equal((await as(app, carol, 'POST', `/api/rooms/${room}/leave`)).statusCode, 204)
    t.equal((await as(app, alice, 'POST', '/api/direct', { username: 'carol' })).statusCode, 200)
    const members = (await as(app, alice, 'GET', `/api/rooms/${room}/members`)).json().members
    t.same(members.map((m: { username: string }) => m.username), ['alice'], 'the other side opening it does not bring carol back')
    t.equal((await as(app, alice, 'POST', `/api/rooms/${room}/messages`, { text: 'are you there?' })).statusCode, 201)
    t.notOk((await as(app, carol, 'GET', '/api/rooms')).json().rooms.some((r: { id: string }) => r.id === room))
    t.equal((await as(app, carol, 'GET', `/api/rooms/${room}/messages`)).statusCode, 404)
    t.equal((await as(app, carol, 'POST', '/api/direct', { username: 'alice' })).statusCode, 200)
    t.ok((await as(app, carol, 'GET', '/api/rooms')).json().rooms.some((r: { id: string }) => r.id === room), 'back when she opens it herself')
  })
})

t.test('mentions: @username of a member lands in the event and in the room list', async t => {
  const app = await buildTestApp(t)
  const [alice, bob, carol] = await Promise.all([register(app, 'alice'), register(app, 'bob'), register(app, 'carol.x')])
  t.equal((await as(app, alice, 'POST', '/api/rooms', { name: 'team' })).statusCode, 201)
  t.equal((await as(app, bob, 'POST', '/api/rooms/team/join')).statusCode, 200)

  const sent = await as(app, alice, 'POST', '/api/rooms/team/messages', { text: 'hi @Bob, @alice, @carol.x, @nobody and mail@bob.example' })
  t.same(sent.json().event.mentions, [bob.user.id], 'members only, not the author, not a non-member, not an e-mail address')
  const plain = await as(app, alice, 'POST', '/api/rooms/team/messages', { text: 'no mentions' })
  t.equal(plain.json().event.mentions, undefined)
  const trailing = await as(app, alice, 'POST', '/api/rooms/team/messages', { text: 'thanks @bob.' })
  t.same(trailing.json().event.mentions, [bob.user.id], 'a trailing full stop is punctuation')

  const roomOf = async (s: typeof bob): Promise<{ unread: number, mentions: number }> =>
    (await as(app, s, 'GET', '/api/rooms')).json().rooms.find((r: { name: string }) => r.name === 'team')
  t.match(await roomOf(bob), { unread: 3, mentions: 2 })
  t.match(await roomOf(alice), { unread: 0, mentions: 0 })

  t.equal((await as(app, bob, 'POST', '/api/rooms/team/read', { eventId: sent.json().event.id })).statusCode, 204)
  t.match(await roomOf(bob), { unread: 2, mentions: 1 })

  // An edit that drops the mention drops it from the count; a deleted message no longer counts.
  const edited = await as(app, alice, 'PATCH', `/api/rooms/team/messages/${trailing.json().event.id as string}`, { text: 'thanks all' })
  t.equal(edited.json().event.mentions, undefined)
  t.match(await roomOf(bob), { mentions: 0 })
  const again = await as(app, alice, 'POST', '/api/rooms/team/messages', { text: '@bob one more' })
  t.match(await roomOf(bob), { mentions: 1 })
  t.equal((await as(app, alice, 'DELETE', `/api/rooms/team/messages/${again.json().event.id as string}`)).statusCode, 204)
  t.match(await roomOf(bob), { mentions: 0 })
  t.equal(carol.user.username, 'carol.x')
})

t.test('lookups that tell whether a user or room exists are rate-limited (17.11)', async t => {
  const app = await buildTestApp(t, { RATE_LIMIT_DISABLED: 'false', RATE_LOOKUP_MAX: '3', RATE_LOOKUP_WINDOW: '60' })
  const [alice] = await Promise.all([register(app, 'alice'), register(app, 'bob')])
  for (const [method, url, body] of [
    ['POST', '/api/direct', { username: 'bob' }],
    ['GET', '/api/rooms/nosuch/members', undefined],
    ['POST', '/api/rooms', { name: 'taken-or-not' }]
  ] as const) {
    const res = await as(app, alice, method, url, body)
    t.not(res.statusCode, 429, `${method} ${url} is within the limit`)
  }
  const over = await as(app, alice, 'POST', '/api/direct', { username: 'bob' })
  t.equal(over.statusCode, 429)
  t.equal(over.json().error.code, 'rate_limited')
  t.ok(Number(over.headers['retry-after']) > 0)
})
