import t from 'tap'
import { createTestDatabase } from '../helpers/database.js'
import { twoApps } from '../helpers/two-nodes.js'

/*
 * Two app instances on one database (the MariaDB run is the one that matters;
 * on SQLite both share one file). Eight senders spread across both nodes and
 * six pollers spread across both, following their cursors: every poller must
 * receive every message exactly once, and each sender's messages in order.
 */

const sendersCount = 8
const perSender = 25
const pollersCount = 6

t.test('two nodes, concurrent senders and pollers: every message exactly once, in order', async t => {
  const database = await createTestDatabase(t)
  const { urls } = await twoApps(t, database, { FEED_INTERVAL_MS: '50' })

  const call = async (url: string, path: string, init: { method?: string, token?: string, cookie?: string, body?: unknown } = {}): Promise<{ status: number, body: any }> => {
    const headers: Record<string, string> = {}
    if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`
    if (init.cookie !== undefined) headers.cookie = init.cookie
    if (init.body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(url + path, { method: init.method ?? 'GET', headers, ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }) })
    const text = await res.text()
    return { status: res.status, body: text === '' ? null : JSON.parse(text) }
  }

  // Users: one per sender and per poller, each with a token; all in one room.
  const tokens: string[] = []
  for (let i = 0; i < sendersCount + pollersCount; i++) {
    const res = await fetch(`${urls[i % 2] as string}/api/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: `user${i}`, password: 'password-for-tests' }) })
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] as string
    const token = await call(urls[i % 2] as string, '/api/tokens', { method: 'POST', cookie, body: { name: 'test', password: 'password-for-tests' } })
    tokens.push(token.body.token)
  }
  t.equal((await call(urls[0] as string, '/api/rooms', { method: 'POST', token: tokens[0], body: { name: 'load' } })).status, 201)
  for (const token of tokens.slice(1)) t.equal((await call(urls[1] as string, '/api/rooms/load/join', { method: 'POST', token })).status, 200)

  const expected = sendersCount * perSender
  const pollerTokens = tokens.slice(sendersCount)
  const received: string[][] = pollerTokens.map(() => [])
  const run = { stop: false }
  const pollers = pollerTokens.map(async (token, p) => {
    let cursor = (await call(urls[p % 2] as string, '/api/poll', { token })).body.cursor as string
    let round = 0
    while (!run.stop && received[p]!.filter(x => x !== '').length < expected) {
      // Alternate nodes too: a cursor from one node is valid on the other.
      const url = urls[(p + round++) % 2] as string
      const res = await call(url, `/api/poll?cursor=${cursor}&timeout=2`, { token })
      if (res.status !== 200) throw new Error(`poll ${res.status} ${JSON.stringify(res.body)}`)
      for (const e of res.body.events) if (e.type === 'message') received[p]!.push(e.text)
      cursor = res.body.cursor
    }
  })

  const senderTokens = tokens.slice(0, sendersCount)
  const senders = senderTokens.map(async (token, s) => {
    for (let i = 0; i < perSender; i++) {
      const url = urls[(s + i) % 2] as string
      const res = await call(url, '/api/rooms/load/messages', { method: 'POST', token, body: { text: `s${s}-${i}`, clientId: `s${s}-${i}` } })
      if (res.status !== 201) throw new Error(`send ${res.status}`)
    }
  })
  await Promise.all(senders)
  const deadline = setTimeout(() => { run.stop = true }, 20000)
  await Promise.all(pollers)
  clearTimeout(deadline)

  for (let p = 0; p < pollersCount; p++) {
    const got = received[p]!
    t.equal(got.length, expected, `poller ${p} received every message`)
    t.equal(new Set(got).size, got.length, `poller ${p} received nothing twice`)
    for (let s = 0; s < sendersCount; s++) {
      const mine = got.filter(x => x.startsWith(`s${s}-`)).map(x => Number(x.split('-')[1]))
      t.same(mine, [...mine].sort((a, b) => a - b), `poller ${p}: sender ${s} in order`)
    }
  }
  // Every poller saw the same total order.
  t.ok(received.every(r => r.join() === received[0]!.join()), 'one order for everyone')
})
