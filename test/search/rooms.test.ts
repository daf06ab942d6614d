import t from 'tap'
import { as, buildTestApp, register, type Session } from '../helper.js'

// On MySQL/MariaDB each message also carries its room as a FULLTEXT word
// (`_room14_`, migration 008), and a search in a few rooms asks FULLTEXT for
// those words too. A message may hold another room's word in its text, and a
// searched word must never match a room's word: results are the same on both
// databases, and whether the user is in few rooms (room words) or many (without).
t.test('a search in few rooms or many: rooms by membership, never by text that looks like a room word', async t => {
  const app = await buildTestApp(t)
  const alice = await register(app, 'alice')
  const bob = await register(app, 'bob')
  const send = async (who: Session, room: string, text: string): Promise<string> => {
    const res = await as(app, who, 'POST', `/api/rooms/${room}/messages`, { text })
    if (res.statusCode !== 201) throw new Error(res.body)
    return res.json().event.id
  }
  const found = async (who: Session, query: Record<string, string>): Promise<string[]> => {
    const res = await as(app, who, 'GET', `/api/search?${new URLSearchParams(query).toString()}`)
    t.equal(res.statusCode, 200, res.body)
    return res.json().events.map((e: { text: string }) => e.text)
  }
  const hereId = String((await as(app, alice, 'POST', '/api/rooms', { name: 'here' })).json().room.id)
  t.match(hereId, /^\d+$/)
  await as(app, bob, 'POST', '/api/rooms/here/join')
  await as(app, alice, 'POST', '/api/rooms', { name: 'there', visibility: 'private' })
  await send(alice, 'here', 'kumquat jam, older')
  await send(alice, 'there', `kumquat _room${hereId}_`)
  await send(alice, 'there', `_room${hereId}_ and _room${hereId}_`)
  await send(alice, 'here', 'kumquat tart, newer')

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
    await send(alice, `more${i}`, `filler ${i}`)
  }
  await check('many rooms')

  const edited = await send(alice, 'here', 'a quince')
  t.same(await found(bob, { q: 'quince', room: 'here' }), ['a quince'])
  t.equal((await as(app, alice, 'PATCH', `/api/rooms/here/messages/${edited}`, { text: 'a medlar' })).statusCode, 200)
  t.same(await found(bob, { q: 'quince', room: 'here' }), [], 'an edit keeps the room and replaces the words')
  t.same(await found(bob, { q: 'medlar', room: 'here' }), ['a medlar'])
})
