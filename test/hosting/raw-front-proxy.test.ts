import t from 'tap'
import { request, sessionCookie, startApache, startApp, startNginx, type Proxy } from './harness.js'

// Proxies that keep their connections to the app open send polls, pages and
// sends over the same connections. The raw front (src/http/raw-front.ts)
// answers the polls on connections that have only polled, and hands a
// connection to Node's server with the first other request. Through real
// nginx (an upstream with keepalive) and Apache (which reuses its backend
// connections by default): every message reaches every poller once, and the
// front did take polls.
const PASSWORD = 'correct horse battery'
const POLLERS = 6
const ROUNDS = 5

const startProxy = {
  'nginx (keepalive upstream)': async (t: Parameters<typeof startNginx>[0], port: number): Promise<Proxy> => await startNginx(t, port, { keepAliveUpstream: true }),
  apache: startApache
}

for (const [kind, start] of Object.entries(startProxy)) {
  t.test(`behind ${kind}`, async t => {
    const app = await startApp(t, { TRUST_PROXY: '127.0.0.1', EXPOSE_STATS: 'true', RATE_LIMIT_DISABLED: 'true', MAX_POLLS_PER_USER: '50' })
    const proxy = await start(t, app.port)
    t.teardown(() => { if (t.passing() === false) t.comment(`${kind} log:\n${proxy.log()}\napp output:\n${app.output()}`) })
    const stats = async (): Promise<{ rawConnections: number, heldPolls: number }> =>
      (await request(`http://127.0.0.1:${app.port}/chat/api/debug/stats`)).json

    const alice = await request(`${proxy.url}/api/register`, { body: { username: 'alice', password: PASSWORD }, headers: { origin: proxy.origin } })
    t.equal(alice.status, 201, alice.text)
    const cookie = sessionCookie(alice)
    const browser = { cookie, origin: proxy.origin }
    t.equal((await request(`${proxy.url}/api/rooms`, { body: { name: 'mixed' }, headers: browser })).status, 201)
    const first = await request(`${proxy.url}/api/poll`, { headers: { cookie } })
    const cursors: string[] = Array.from({ length: POLLERS }, () => String(first.json.cursor))
    const received: string[][] = cursors.map(() => [])

    let mostRaw = 0
    for (let round = 0; round < ROUNDS; round++) {
      const held = cursors.map(async (cursor, i) => {
        const answer = await request(`${proxy.url}/api/poll?cursor=${cursor}&timeout=20`, { headers: { cookie } })
        if (answer.status !== 200) throw new Error(`poll ${i}: ${answer.status} ${answer.text}`)
        cursors[i] = String(answer.json.cursor)
        for (const e of answer.json.events as Array<{ text?: string }>) if (e.text !== undefined) received[i]?.push(e.text)
      })
      for (let i = 0; i < 300 && (await stats()).heldPolls < POLLERS; i++) await new Promise(resolve => setTimeout(resolve, 20))
      mostRaw = Math.max(mostRaw, (await stats()).rawConnections)
      // The send (and a page of history) travel over the same upstream connections as the polls.
      const sent = await request(`${proxy.url}/api/rooms/mixed/messages`, { body: { text: `round ${round}` }, headers: browser })
      t.equal(sent.status, 201, `send ${round}: ${sent.text}`)
      t.equal((await request(`${proxy.url}/api/rooms/mixed/messages`, { headers: { cookie } })).status, 200)
      await Promise.all(held)
    }
    const expected = Array.from({ length: ROUNDS }, (_, r) => `round ${r}`)
    for (const [i, texts] of received.entries()) t.same(texts, expected, `poller ${i}: every message once, in order`)
    t.ok(mostRaw >= 1, `the raw front held ${mostRaw} of the proxy's connections at once`)
  })
}
