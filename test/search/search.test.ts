import t from 'tap'
import { sql } from 'kysely'
import { migrate } from '../../src/db/migrate.js'
import { as, buildTestApp, register, type Session } from '../helper.js'
import type { FastifyInstance } from 'fastify'

interface Found { events: Array<{ id: string, text: string, roomId: string, type: string, user: { username: string } }>, hasMore: boolean }

const search = async (app: FastifyInstance, who: Session, query: Record<string, string>): Promise<Found> => {
  const res = await as(app, who, 'GET', `/api/search?${new URLSearchParams(query).toString()}`)
  if (res.statusCode !== 200) throw new Error(`search ${JSON.stringify(query)}: ${res.statusCode} ${res.body}`)
  return res.json()
}
const texts = (found: Found): string[] => found.events.map(e => e.text)

t.test('search', async t => {
  const app = await buildTestApp(t)
  const alice = await register(app, 'alice')
  const bob = await register(app, 'bob')
  const send = async (who: Session, room: string, text: string): Promise<string> => {
    const res = await as(app, who, 'POST', `/api/rooms/${room}/messages`, { text })
    if (res.statusCode !== 201) throw new Error(res.body)
    return res.json().event.id
  }
  await as(app, alice, 'POST', '/api/rooms', { name: 'general' })
  await as(app, bob, 'POST', '/api/rooms/general/join')
  await as(app, alice, 'POST', '/api/rooms', { name: 'secret', visibility: 'private' })
  await send(alice, 'general', 'The quick brown fox jumps over the lazy dog')
  await send(bob, 'general', 'A quick lunch today?')
  await send(alice, 'general', 'Brown bread and FOXGLOVE')
  await send(alice, 'secret', 'the quick brown fox in private')
  await send(alice, 'general', '今日は良い天気ですね')
  await send(bob, 'general', '北京的天气很好')
  await send(alice, 'general', 'save 100% now, or a_b')

  t.test('every word, in any order, newest first', async t => {
    t.same(texts(await search(app, bob, { q: 'fox brown' })), ['Brown bread and FOXGLOVE', 'The quick brown fox jumps over the lazy dog'])
    t.same(texts(await search(app, bob, { q: 'quick' })), ['A quick lunch today?', 'The quick brown fox jumps over the lazy dog'])
    t.same(texts(await search(app, bob, { q: 'quick lazy' })), ['The quick brown fox jumps over the lazy dog'])
    t.same(texts(await search(app, bob, { q: 'quick zebra' })), [])
  })

  t.test('results are message events with room and author', async t => {
    const found = await search(app, bob, { q: 'lunch' })
    t.match(found.events[0], { type: 'message', text: 'A quick lunch today?', user: { username: 'bob' } })
    t.match(found.events[0]?.roomId, /^\d+$/)
    t.equal(found.hasMore, false)
  })

  t.test('case-insensitive', async t => {
    t.same(texts(await search(app, bob, { q: 'QUICK Lazy' })), ['The quick brown fox jumps over the lazy dog'])
    t.same(texts(await search(app, bob, { q: 'foxglove' })), ['Brown bread and FOXGLOVE'])
  })

  t.test('Japanese and Chinese text matches as substrings, also one or two characters', async t => {
    t.same(texts(await search(app, bob, { q: '天気' })), ['今日は良い天気ですね'])
    t.same(texts(await search(app, bob, { q: '良い天気' })), ['今日は良い天気ですね'])
    t.same(texts(await search(app, bob, { q: 'ですね 今日' })), ['今日は良い天気ですね'])
    t.same(texts(await search(app, bob, { q: '天' })), ['北京的天气很好', '今日は良い天気ですね'])
    t.same(texts(await search(app, bob, { q: '北京' })), ['北京的天气很好'])
    t.same(texts(await search(app, bob, { q: '天気 雨' })), [])
  })

  t.test('LIKE wildcards in a query are literal', async t => {
    t.same(texts(await search(app, bob, { q: '100%' })), ['save 100% now, or a_b'])
    t.same(texts(await search(app, bob, { q: 'a_b' })), ['save 100% now, or a_b'])
    t.same(texts(await search(app, bob, { q: '%' })), ['save 100% now, or a_b'])
    t.same(texts(await search(app, bob, { q: '"quick' })), [], 'a quote is searched for, not parsed')
  })

  t.test('only rooms the caller is a member of now', async t => {
    t.same(texts(await search(app, alice, { q: 'private' })), ['the quick brown fox in private'])
    t.same(texts(await search(app, bob, { q: 'private' })), [], 'never a member')
    await as(app, alice, 'POST', '/api/rooms', { name: 'leaving' })
    await as(app, bob, 'POST', '/api/rooms/leaving/join')
    await send(alice, 'leaving', 'farewell message')
    t.same(texts(await search(app, bob, { q: 'farewell' })), ['farewell message'])
    t.equal((await as(app, bob, 'POST', '/api/rooms/leaving/leave')).statusCode, 204)
    t.same(texts(await search(app, bob, { q: 'farewell' })), [], 'after leaving')
    t.same(texts(await search(app, bob, { q: 'fa' })), [], 'after leaving, by the short-word path')
  })

  t.test('room narrows the search; other rooms answer as their routes do', async t => {
    t.same(texts(await search(app, alice, { q: 'quick brown', room: 'secret' })), ['the quick brown fox in private'])
    const general = await search(app, alice, { q: 'quick brown', room: 'general' })
    t.same(texts(general), ['The quick brown fox jumps over the lazy dog'])
    t.same(texts(await search(app, alice, { q: 'quick brown', room: general.events[0]?.roomId ?? '' })), texts(general), 'by id')
    for (const room of ['secret', 'leaving', 'nosuchroom']) {
      const res = await as(app, bob, 'GET', `/api/search?q=quick&room=${room}`)
      const history = await as(app, bob, 'GET', `/api/rooms/${room}/messages`)
      t.not(res.statusCode, 200, room)
      t.same([res.statusCode, res.json().error.code], [history.statusCode, history.json().error.code], `${room}: as the room's own routes answer`)
    }
  })

  t.test('edits update the index, deletions remove from it', async t => {
    const id = await send(alice, 'general', 'a teapot message')
    t.same(texts(await search(app, bob, { q: 'teapot' })), ['a teapot message'])
    t.equal((await as(app, alice, 'PATCH', `/api/rooms/general/messages/${id}`, { text: 'a kettle message' })).statusCode, 200)
    t.same(texts(await search(app, bob, { q: 'teapot' })), [], 'the old text is gone')
    t.same(texts(await search(app, bob, { q: 'kettle' })), ['a kettle message'])
    t.equal((await as(app, alice, 'DELETE', `/api/rooms/general/messages/${id}`)).statusCode, 204)
    t.same(texts(await search(app, bob, { q: 'kettle' })), [])
    t.same(texts(await search(app, bob, { q: 'ke' })), [], 'nor by the short-word path')
  })

  t.test('pages with before and limit', async t => {
    await as(app, alice, 'POST', '/api/rooms', { name: 'paging' })
    const ids: string[] = []
    for (let i = 0; i < 7; i++) ids.push(await send(alice, 'paging', `pageword number ${i}`))
    await send(alice, 'paging', 'unrelated')
    const page1 = await search(app, alice, { q: 'pageword', limit: '3' })
    t.same(texts(page1), ['pageword number 6', 'pageword number 5', 'pageword number 4'])
    t.equal(page1.hasMore, true)
    const page2 = await search(app, alice, { q: 'pageword', limit: '3', before: page1.events[2]?.id ?? '' })
    t.same(texts(page2), ['pageword number 3', 'pageword number 2', 'pageword number 1'])
    t.equal(page2.hasMore, true)
    const page3 = await search(app, alice, { q: 'pageword', limit: '3', before: page2.events[2]?.id ?? '' })
    t.same(texts(page3), ['pageword number 0'])
    t.equal(page3.hasMore, false)
    const short = await search(app, alice, { q: 'r 5', room: 'paging', limit: '1' })
    t.same(texts(short), ['pageword number 5'], 'the short-word path pages too')
    t.equal(short.hasMore, false)
    t.equal((await search(app, alice, { q: 'pageword' })).events.length, 7, 'default limit 20')
  })

  t.test('bad queries are 400 invalid naming the field', async t => {
    for (const query of ['', 'q=', `q=${'x'.repeat(201)}`, 'q=%20%20', 'q=x&limit=0', 'q=x&limit=101', 'q=x&limit=ten', 'q=x&before=abc', 'q=x&room=No%20Room', 'q=a&q=b']) {
      const res = await as(app, alice, 'GET', `/api/search?${query}`)
      t.equal(res.statusCode, 400, query)
      t.equal(res.json().error.code, 'invalid', query)
      t.ok(Object.keys(res.json().error.fields ?? {}).length > 0, query)
    }
    t.equal((await as(app, alice, 'GET', `/api/search?q=${'x'.repeat(200)}`)).statusCode, 200, '200 characters are fine')
    t.equal((await app.inject({ method: 'GET', url: '/api/search?q=quick' })).statusCode, 401)
  })
})

t.test('the migration indexes the messages stored before it', async t => {
  const app = await buildTestApp(t)
  const alice = await register(app, 'alice')
  await as(app, alice, 'POST', '/api/rooms', { name: 'old' })
  await as(app, alice, 'POST', '/api/rooms/old/messages', { text: 'written before search existed' })
  const { db, dialect } = app.database
  // Take the search migration back out, as on a database from before it.
  if (dialect === 'sqlite') {
    for (const name of ['message_search_insert', 'message_search_update', 'message_search_delete']) await sql.raw(`DROP TRIGGER ${name}`).execute(db)
    await sql.raw('DROP TABLE message_search').execute(db)
  } else {
    // 008 replaced 007's index with one over the text and the room's word: both come out.
    await sql.raw('ALTER TABLE messages DROP INDEX messages_text_room, DROP COLUMN search_room').execute(db)
    // A table that once had a FULLTEXT index keeps a hidden document id column, and
    // MariaDB then builds a new FULLTEXT index empty; a rebuild gives back the table
    // as it was before the migration (where the index is built from every row).
    await sql.raw('ALTER TABLE messages FORCE').execute(db)
  }
  const searchMigrations = dialect === 'sqlite' ? ['007_search'] : ['007_search', '008_search_rooms']
  await db.deleteFrom('schema_migrations').where('name', 'in', searchMigrations).execute()
  t.same(await migrate(db, dialect), searchMigrations)
  t.same(texts(await search(app, alice, { q: 'before search' })), ['written before search existed'])
  t.same(texts(await search(app, alice, { q: 'before search', room: 'old' })), ['written before search existed'], 'in its room too')
})
