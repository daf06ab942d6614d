import t from 'tap'
import { as, buildTestApp, register } from '../helper.js'

t.test('messages', async t => {
  const app = await buildTestApp(t)
  const alice = await register(app, 'alice')
  const bob = await register(app, 'bob')
  await as(app, alice, 'POST', '/api/rooms', { name: 'general' })
  await as(app, bob, 'POST', '/api/rooms/general/join')

  t.test('send answers 201 with the event', async t => {
    const res = await as(app, alice, 'POST', '/api/rooms/general/messages', { text: 'hello 👋', clientId: 'c1' })
    t.equal(res.statusCode, 201)
    t.match(res.json().event, { type: 'message', text: 'hello 👋', clientId: 'c1', user: { username: 'alice' } })
    t.match(res.json().event.id, /^\d+$/)
  })

  t.test('the same clientId again: 200 with the first event, nothing stored twice', async t => {
    const first = await as(app, alice, 'POST', '/api/rooms/general/messages', { text: 'once', clientId: 'dup' })
    const again = await as(app, alice, 'POST', '/api/rooms/general/messages', { text: 'once', clientId: 'dup' })
    t.equal(first.statusCode, 201)
    t.equal(again.statusCode, 200)
    t.same(again.json().event, first.json().event)
    const racing = await Promise.all([1, 2, 3, 4, 5].map(async () => await as(app, bob, 'POST', '/api/rooms/general/messages', { text: 'race', clientId: 'r1' })))
    t.same(racing.map(r => r.statusCode).sort(), [200, 200, 200, 200, 201])
    t.equal(new Set(racing.map(r => r.json().event.id)).size, 1)
    const history = (await as(app, bob, 'GET', '/api/rooms/general/messages')).json()
    t.equal(history.events.filter((e: { text: string }) => e.text === 'race').length, 1)
    t.equal(history.events.filter((e: { text: string }) => e.text === 'once').length, 1)
    const otherUser = await as(app, bob, 'POST', '/api/rooms/general/messages', { text: 'mine', clientId: 'dup' })
    t.equal(otherUser.statusCode, 201, 'clientIds are per user')
  })

  t.test('form and text/plain bodies', async t => {
    const form = await app.inject({ method: 'POST', url: '/api/rooms/general/messages', headers: { cookie: alice.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'text=from+a+form&clientId=f1' })
    t.equal(form.statusCode, 201)
    t.equal(form.json().event.text, 'from a form')
    const plain = await app.inject({ method: 'POST', url: '/api/rooms/general/messages', headers: { cookie: alice.cookie, 'content-type': 'text/plain' }, payload: 'plain text body' })
    t.equal(plain.statusCode, 201)
    t.equal(plain.json().event.text, 'plain text body')
  })

  t.test('text bounds: 1-4000 code points, not only white space', async t => {
    for (const text of ['', '   \n\t ', 'x'.repeat(4001)]) {
      const res = await as(app, alice, 'POST', '/api/rooms/general/messages', { text })
      t.equal(res.statusCode, 400)
      t.ok(res.json().error.fields.text)
    }
    t.equal((await as(app, alice, 'POST', '/api/rooms/general/messages', { text: '😀'.repeat(4000) })).statusCode, 201, '4000 emoji are 4000 code points')
    t.equal((await as(app, alice, 'POST', '/api/rooms/general/messages', { text: 'x', clientId: 'c'.repeat(65) })).statusCode, 400)
  })

  t.test('history pages: newest before `before`, oldest first, hasMore', async t => {
    await as(app, alice, 'POST', '/api/rooms', { name: 'paging' })
    const ids: string[] = []
    for (let i = 0; i < 7; i++) ids.push((await as(app, alice, 'POST', '/api/rooms/paging/messages', { text: `m${i}` })).json().event.id)
    const page1 = (await as(app, alice, 'GET', '/api/rooms/paging/messages?limit=3')).json()
    t.same(page1.events.map((e: { text: string }) => e.text), ['m4', 'm5', 'm6'])
    t.equal(page1.hasMore, true)
    const page2 = (await as(app, alice, 'GET', `/api/rooms/paging/messages?limit=3&before=${page1.events[0].id as string}`)).json()
    t.same(page2.events.map((e: { text: string }) => e.text), ['m1', 'm2', 'm3'])
    const page3 = (await as(app, alice, 'GET', `/api/rooms/paging/messages?limit=3&before=${page2.events[0].id as string}`)).json()
    t.same(page3.events.map((e: { text: string }) => e.text), ['m0'])
    t.equal(page3.hasMore, false)
    for (const q of ['limit=0', 'limit=201', 'limit=x', 'before=abc']) {
      t.equal((await as(app, alice, 'GET', `/api/rooms/paging/messages?${q}`)).statusCode, 400, q)
    }
  })

  t.test('history pages forward: the oldest after `after`, oldest first, hasMore for newer', async t => {
    await as(app, alice, 'POST', '/api/rooms', { name: 'forward' })
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push((await as(app, alice, 'POST', '/api/rooms/forward/messages', { text: `f${i}` })).json().event.id)
    const page1 = (await as(app, alice, 'GET', `/api/rooms/forward/messages?limit=2&after=${ids[0] as string}`)).json()
    t.same(page1.events.map((e: { text: string }) => e.text), ['f1', 'f2'])
    t.equal(page1.hasMore, true)
    const page2 = (await as(app, alice, 'GET', `/api/rooms/forward/messages?limit=2&after=${ids[2] as string}`)).json()
    t.same(page2.events.map((e: { text: string }) => e.text), ['f3', 'f4'])
    t.equal(page2.hasMore, false)
    const between = (await as(app, alice, 'GET', `/api/rooms/forward/messages?after=${ids[0] as string}&before=${ids[3] as string}`)).json()
    t.same(between.events.map((e: { text: string }) => e.text), ['f1', 'f2'], 'both bounds: the messages between them')
    t.equal((await as(app, alice, 'GET', '/api/rooms/forward/messages?after=abc')).statusCode, 400)
  })

  t.test('edit and delete: author only; history shows the current text and leaves out deleted', async t => {
    const sent = (await as(app, alice, 'POST', '/api/rooms/general/messages', { text: 'typo' })).json().event
    const forbidden = await as(app, bob, 'PATCH', `/api/rooms/general/messages/${sent.id as string}`, { text: 'hacked' })
    t.equal(forbidden.statusCode, 403)
    const edited = await as(app, alice, 'PATCH', `/api/rooms/general/messages/${sent.id as string}`, { text: 'fixed' })
    t.equal(edited.statusCode, 200)
    t.match(edited.json().event, { type: 'message.edited', messageId: sent.id, text: 'fixed' })
    let history = (await as(app, bob, 'GET', '/api/rooms/general/messages')).json().events
    const shown = history.find((e: { id: string }) => e.id === sent.id)
    t.equal(shown.text, 'fixed')
    t.type(shown.editedAt, 'string')
    t.equal((await as(app, bob, 'DELETE', `/api/rooms/general/messages/${sent.id as string}`)).statusCode, 403)
    t.equal((await as(app, alice, 'DELETE', `/api/rooms/general/messages/${sent.id as string}`)).statusCode, 204)
    history = (await as(app, bob, 'GET', '/api/rooms/general/messages')).json().events
    t.notOk(history.some((e: { id: string }) => e.id === sent.id))
    t.equal((await as(app, alice, 'DELETE', `/api/rooms/general/messages/${sent.id as string}`)).statusCode, 404)
    t.equal((await as(app, alice, 'PATCH', '/api/rooms/general/messages/999999', { text: 'x' })).statusCode, 404)
  })

  t.test('an administrator may edit and delete any message', async t => {
    const sent = (await as(app, bob, 'POST', '/api/rooms/general/messages', { text: 'spam' })).json().event
    t.equal((await as(app, alice, 'DELETE', `/api/rooms/general/messages/${sent.id as string}`)).statusCode, 204, 'alice registered first: admin')
  })

  t.test('read markers and unread counts', async t => {
    await as(app, alice, 'POST', '/api/rooms', { name: 'unread' })
    await as(app, bob, 'POST', '/api/rooms/unread/join')
    const m1 = (await as(app, alice, 'POST', '/api/rooms/unread/messages', { text: 'one' })).json().event
    await as(app, alice, 'POST', '/api/rooms/unread/messages', { text: 'two' })
    await as(app, bob, 'POST', '/api/rooms/unread/messages', { text: 'mine' })
    const unread = async (): Promise<number> => (await as(app, bob, 'GET', '/api/rooms')).json().rooms.find((r: { name: string }) => r.name === 'unread').unread
    t.equal(await unread(), 2, "others' messages only")
    t.equal((await as(app, bob, 'POST', '/api/rooms/unread/read', { eventId: m1.id })).statusCode, 204)
    t.equal(await unread(), 1)
    const rooms = (await as(app, bob, 'GET', '/api/rooms')).json().rooms
    const room = rooms.find((r: { name: string }) => r.name === 'unread')
    t.equal((await as(app, bob, 'POST', '/api/rooms/unread/read', { eventId: room.lastEventId })).statusCode, 204)
    t.equal(await unread(), 0)
    t.equal((await as(app, bob, 'POST', '/api/rooms/unread/read', { eventId: m1.id })).statusCode, 204, 'never backwards')
    t.equal(await unread(), 0)
    t.equal((await as(app, bob, 'POST', '/api/rooms/unread/read', { eventId: '99999999' })).statusCode, 400)
  })

  t.test('typing answers 204; repeats within 2 s store one notice', async t => {
    const count = async (): Promise<number> => Number((await app.database.db.selectFrom('ephemeral_events')
      .select(eb => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)
    const before = await count()
    for (let i = 0; i < 5; i++) t.equal((await as(app, bob, 'POST', '/api/rooms/general/typing')).statusCode, 204)
    t.equal(await count(), before + 1)
  })
})
