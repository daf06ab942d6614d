import t from 'tap'
import { as, buildTestApp, register } from '../helper.js'

// A word no index can find (two characters on SQLite, text without spaces on
// MySQL) is looked for among the newest SEARCH_SCAN_LIMIT messages of the
// searched rooms: other rooms' messages do not use up that bound.
t.test('a scanned word reads the newest SEARCH_SCAN_LIMIT messages of the searched rooms', async t => {
  const app = await buildTestApp(t, { SEARCH_SCAN_LIMIT: '1000' })
  const alice = await register(app, 'alice')
  const bob = await register(app, 'bob')
  await as(app, alice, 'POST', '/api/rooms', { name: 'mine' })
  await as(app, bob, 'POST', '/api/rooms', { name: 'theirs' })
  const { db } = app.database
  const rooms = await db.selectFrom('rooms').select(['id', 'name']).execute()
  const roomId = (name: string): number => Number(rooms.find(r => r.name === name)?.id)
  const users = await db.selectFrom('users').select(['id', 'username']).execute()
  const userId = (name: string): number => Number(users.find(u => u.username === name)?.id)
  const newest = await db.selectFrom('messages').select(eb => eb.fn.max('id').as('id')).executeTakeFirst()
  let next = Number(newest?.id ?? 0) + 1
  // Written straight to the table: thousands of messages through the API would take minutes.
  const add = async (room: string, user: string, texts: string[]): Promise<void> => {
    const rows = texts.map(text => ({ id: next++, room_id: roomId(room), user_id: userId(user), text, client_id: null, created_at: Date.now() }))
    for (let i = 0; i < rows.length; i += 500) await db.insertInto('messages').values(rows.slice(i, i + 500)).execute()
  }
  const found = async (query: string): Promise<string[]> => {
    const res = await as(app, alice, 'GET', `/api/search?${query}`)
    t.equal(res.statusCode, 200, res.body)
    return res.json().events.map((e: { text: string }) => e.text)
  }

  await add('mine', 'alice', ['天気 oldest', ...Array.from({ length: 998 }, (_, i) => `filler ${i}`)])
  await add('theirs', 'bob', Array.from({ length: 3000 }, (_, i) => `天気 theirs ${i}`))
  await add('mine', 'alice', ['天気 newest'])
  t.same(await found('q=天気'), ['天気 newest', '天気 oldest'], 'the room holds 1,000 messages: all are read, however many others came between')

  await add('mine', 'alice', ['one more'])
  t.same(await found('q=天気'), ['天気 newest'], 'with 1,001 the oldest is past the bound')
  const newestId = Number((await db.selectFrom('messages').select('id').where('text', '=', '天気 newest').executeTakeFirstOrThrow()).id)
  t.same(await found(`q=天気&before=${newestId}`), ['天気 oldest'], 'the bound counts back from before')
})
