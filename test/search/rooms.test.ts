import t from 'tap'
import { as, buildTestApp, register, send, type Session } from '../helper.js'

// On MySQL/MariaDB each message also carries its room as a FULLTEXT word
// (`_room14_`, migration 008), and a search in a few rooms asks FULLTEXT for
// those words too. A message may hold another room's word in its text, and a
// searched word must never match a room's word: results are the same on both
// databases, and whether the user is in few rooms (room words) or many (without).
t.test('a search in few rooms or many: rooms by membership, never by text that looks like a room word', async t => {
  const app = await buildTestApp(t)
  const alice = await register(app, 'alice')
  const bob = await register(app, 'bob')
  const found = async (who: Session, query: Record<string, string>): Promise<string[]> => {
    const res = await as(app, who, 'GET', `/api/search?${new URLSearchParams(query).toString()}`)
    t.equal(res.statusCode, 200, res.body)
    return res.json().events.map((e: { text: string }) => e.text)
  }
  const hereId = String((await as(app, alice, 'POST', '/api/rooms', { name: 'here' })).json().room.id)
  t.match(hereId, /^\d+$/)
  await as(app, bob, 'POST', '/api/rooms/here/join')
  await as(app, alice, 'POST', '/api/rooms', { name: 'there', visibility: 'private' })
  // Room words are used for rooms holding a small share of the site: the rest of the site is elsewhere.
  const carol = await register(app, 'carol')
  await as(app, carol, 'POST', '/api/rooms', { name: 'elsewhere' })
  const { db } = app.database
  const elsewhere = Number((await db.selectFrom('rooms').select('id').where('name', '=', 'elsewhere').executeTakeFirstOrThrow()).id)
  // Written straight to the table, with ids far above those the API goes on to give.
  let next = 1_000_000
  const filler = Array.from({ length: 1000 }, (_, i) => ({ id: next++, room_id: elsewhere, user_id: Number(carol.user.id), text: `chatter elsewhere ${i}`, client_id: null, created_at: Date.now() }))
  for (let i = 0; i < filler.length; i += 500) await db.insertInto('messages').values(filler.slice(i, i + 500)).execute()
  await send(app, alice, 'here', 'kumquat jam, older')
  await send(app, alice, 'there', `kumquat _room${hereId}_`)
  await send(app, alice, 'there', `_room${hereId}_ and _room${hereId}_`)
  await send(app, alice, 'here', 'kumquat tart, newer')

  const check = async (label: string): Promise<void> => {
    t.same(await found(bob, { q: 'kumquat' }), ['kumquat tart, newer', 'kumquat jam, older'], `${label}: another room's text naming this room's word is not this room`)
    t.same(await found(bob, { q: 'kumquat', room: 'here' }), ['kumquat tart, newer', 'kumquat jam, older'], `${label}: one room`)
    t.same(await found(alice, { q: 'kumquat', room: 'here' }), ['kumquat tart, newer', 'kumquat jam, older'], `${label}: one room, for a member of both`)
    t.same(await found(alice, { q: 'kumquat', room: 'there' }), [`kumquat _room${hereId}_`], `${label}: the other room`)
    t.same(await found(alice, { q: 'kumquat' }), ['kumquat tart, newer', `kumquat _room${hereId}_`, 'kumquat jam, older'], `${label}: both rooms, newest first`)
    t.same(await found(bob, { q: 'room' }), [], `${label}: a searched word does not match a room's word`)
    t.same(await found(bob, { q: `room${hereId}` }), [], `${label}: nor when spelt like one`)
    t.same(await found(bob, { q: 'kumquat', limit: '1' }), ['kumquat tart, newer'], `${label}: pages`)
    const first = (await as(app, bob, 'GET', '/api/search?q=kumquat&limit=1')).json().events[0].id as string
    t.same(await found(bob, { q: 'kumquat', limit: '1', before: first }), ['kumquat jam, older'], `${label}: second page`)
  }
  await check('few rooms')

  // In more rooms than room words are used for, FULLTEXT is asked without them.
  for (let i = 0; i < 6; i++) {
    await as(app, alice, 'POST', '/api/rooms', { name: `more${i}` })
    await as(app, bob, 'POST', `/api/rooms/more${i}/join`)
    await send(app, alice, `more${i}`, `filler ${i}`)
  }
  await check('many rooms')

  const edited = await send(app, alice, 'here', 'a quince')
  t.same(await found(bob, { q: 'quince', room: 'here' }), ['a quince'])
  t.equal((await as(app, alice, 'PATCH', `/api/rooms/here/messages/${edited}`, { text: 'a medlar' })).statusCode, 200)
  t.same(await found(bob, { q: 'quince', room: 'here' }), [], 'an edit keeps the room and replaces the words')
  t.same(await found(bob, { q: 'medlar', room: 'here' }), ['a medlar'])
})

// A word in most of the site's newest messages is scanned for first in few
// rooms, in a step sized by its rate; when that step does not fill the page,
// FULLTEXT with the rooms' words finds the older ones. Rows go straight into the
// table (16,000 through the API would take minutes), as the room word is the
// database's to compute.
t.test('a common word in few rooms: the first scan, then FULLTEXT for what it did not reach', async t => {
  const app = await buildTestApp(t)
  const alice = await register(app, 'alice')
  await as(app, alice, 'POST', '/api/rooms', { name: 'quiet' })
  await as(app, alice, 'POST', '/api/rooms', { name: 'busy' })
  const { db } = app.database
  const rooms = await db.selectFrom('rooms').select(['id', 'name']).execute()
  const roomId = (name: string): number => Number(rooms.find(r => r.name === name)?.id)
  const newest = await db.selectFrom('messages').select(eb => eb.fn.max('id').as('id')).executeTakeFirst()
  let next = Number(newest?.id ?? 0) + 1
  const add = async (room: string, texts: string[]): Promise<void> => {
    const rows = texts.map(text => ({ id: next++, room_id: roomId(room), user_id: Number(alice.user.id), text, client_id: null, created_at: Date.now() }))
    for (let i = 0; i < rows.length; i += 500) await db.insertInto('messages').values(rows.slice(i, i + 500)).execute()
  }
  const found = async (query: Record<string, string>): Promise<{ texts: string[], ids: string[], hasMore: boolean }> => {
    const res = await as(app, alice, 'GET', `/api/search?${new URLSearchParams(query).toString()}`)
    t.equal(res.statusCode, 200, res.body)
    const events = res.json().events as Array<{ id: string, text: string }>
    return { texts: events.map(e => e.text), ids: events.map(e => e.id), hasMore: res.json().hasMore }
  }

  await add('quiet', ['common quiet old'])
  await add('quiet', Array.from({ length: 300 }, (_, i) => `chatter ${i}`))
  await add('busy', Array.from({ length: 16000 }, (_, i) => `common busy ${i}`))
  t.same((await found({ q: 'common', room: 'quiet' })).texts, ['common quiet old'], 'older than the first step reads')

  await add('quiet', Array.from({ length: 25 }, (_, i) => `common quiet new ${i}`))
  const newer = Array.from({ length: 25 }, (_, i) => `common quiet new ${24 - i}`)
  const page1 = await found({ q: 'common', room: 'quiet' })
  t.same(page1.texts, newer.slice(0, 20), 'the first step fills the page')
  t.equal(page1.hasMore, true)
  const page2 = await found({ q: 'common', room: 'quiet', before: page1.ids[19] as string })
  t.same(page2.texts, [...newer.slice(20), 'common quiet old'], 'the rest of the scan, then FULLTEXT')
  t.equal(page2.hasMore, false)
  t.same((await found({ q: 'common' })).texts, newer.slice(0, 20), 'both rooms')
  t.same((await found({ q: 'common quiet', limit: '30' })).texts, [...newer, 'common quiet old'], 'two common words')
})
