import t from 'tap'
import { BoshClient, HTTPBIND, parse, type Element } from '../xmpp/bosh-client.js'
import { request, sessionCookie, startApache, startApp, startNginx, type Proxy } from './harness.js'

// XMPP over BOSH at /chat/http-bind through Debian's nginx and Apache, each
// started with the snippet from deploy/ (the /chat/ prefix location carries
// the endpoint too), in front of one real app process under /chat/.
//
// BOSH holds a request for the session's `wait`, at most POLL_TIMEOUT. Here
// POLL_TIMEOUT is 65 s, past both proxies' own default of 60 s, so the long
// hold below fails with a 504 (nginx) or 502 (Apache) unless the snippet's
// 75 s timeout applies to /chat/http-bind. Both long holds start first and
// run while the other checks go on, so the file takes about 70 s.
const domain = 'chat.test'
const muc = `conference.${domain}`
const PASSWORD = 'correct horse battery'
const LONG_WAIT = 65
const PROXY_DEFAULT_TIMEOUT = 60
const LOGIN_MAX = 5

const messages = (stanzas: Element[]): Element[] => stanzas.filter(s => s.name === 'message')

t.test('BOSH at /chat/http-bind behind nginx and Apache', async t => {
  const app = await startApp(t, {
    TRUST_PROXY: '127.0.0.1',
    XMPP_DOMAIN: domain,
    POLL_TIMEOUT: String(LONG_WAIT),
    POLL_MAX_TIMEOUT: String(LONG_WAIT),
    // Every registration below comes from the proxies' one address; the four
    // sign-ins without X-Forwarded-For stay under the login limit.
    RATE_REGISTER_MAX: '1000',
    RATE_LOGIN_MAX: String(LOGIN_MAX)
  })
  const proxies = [await startNginx(t, app.port), await startApache(t, app.port)]
  t.teardown(() => {
    if (t.passing() === false) t.comment(proxies.map(p => `${p.name} log:\n${p.log()}`).join('\n') + `\napp output:\n${app.output()}`)
  })

  const longHolds = proxies.map(async proxy => await longHold(proxy)
    .catch((err: unknown) => ({ status: 0, waited: 0, text: String(err), wait: '' })))

  for (const proxy of proxies) {
    const kind = proxy.name
    const endpoint = `${proxy.url}/http-bind`

    t.test(`through ${kind}: sign in, join, and a web message wakes a held request`, async t => {
      const web = await request(`${proxy.url}/api/register`, { body: { username: `web-${kind}`, password: PASSWORD }, headers: { origin: proxy.origin } })
      t.equal(web.status, 201, web.text)
      const browser = { cookie: sessionCookie(web), origin: proxy.origin }
      const xmppUser = await request(`${proxy.url}/api/register`, { body: { username: `xmpp-${kind}`, password: PASSWORD }, headers: { origin: proxy.origin } })
      t.equal(xmppUser.status, 201, xmppUser.text)
      const room = await request(`${proxy.url}/api/rooms`, { body: { name: `lobby-${kind}` }, headers: browser })
      t.equal(room.status, 201, room.text)

      const x = new BoshClient(endpoint, domain)
      const created = await x.create(20)
      t.ok(x.sid, `a session: ${created.toString()}`)
      t.equal(created.attrs.wait, '20')
      t.ok(created.getChild('features')?.getChild('mechanisms'), 'stream features with the SASL mechanisms')

      const jid = await x.signIn(`xmpp-${kind}`, PASSWORD)
      t.ok(jid.startsWith(`xmpp-${kind}@${domain}/test`), `SASL PLAIN and resource binding: ${jid}`)

      const joined = await x.post(`<presence to='lobby-${kind}@${muc}/xmpp-${kind}'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
      t.ok(messages(joined.getChildElements()).at(-1)?.getChild('subject'), `joined the room: ${joined.toString()}`)

      // Held in the app behind the proxy until the web user's message arrives.
      const held = x.next()
      await new Promise(resolve => setTimeout(resolve, 500))
      const sent = await request(`${proxy.url}/api/rooms/lobby-${kind}/messages`, { body: { text: `hello through ${kind}` }, headers: browser })
      t.equal(sent.status, 201, sent.text)
      const delivered = messages(await held)
      t.equal(delivered[0]?.getChildText('body'), `hello through ${kind}`, 'the held request carries the web message')
      t.equal(delivered[0]?.attrs.from, `lobby-${kind}@${muc}/web-${kind}`)

      const said = await x.post(`<message type='groupchat' to='lobby-${kind}@${muc}' id='m1'><body>and back</body></message>`)
      t.equal(messages(said.getChildElements())[0]?.getChildText('body'), 'and back', 'the room echoes the XMPP message')
      const history = await request(`${proxy.url}/api/rooms/lobby-${kind}/messages`, { headers: { cookie: browser.cookie } })
      t.same(history.json?.events?.map((e: { text: string }) => e.text), [`hello through ${kind}`, 'and back'], 'the web sees it')
    })

    t.test(`through ${kind}: the XML answer's headers pass, the app's body limit applies`, async t => {
      const answer = await request(endpoint, {
        body: `<body xmlns='${HTTPBIND}' rid='100' to='${domain}' wait='5' hold='1' ver='1.6'/>`,
        headers: { 'content-type': 'text/xml; charset=utf-8' }
      })
      t.equal(answer.status, 200, answer.text)
      t.match(String(answer.headers['content-type']), /^text\/xml; charset=utf-8$/i)
      t.match(String(answer.headers['cache-control']), /no-store/, 'BOSH answers are not cached')
      t.ok(parse(answer.text).attrs.sid, answer.text)

      // Larger than BODY_LIMIT (64 KiB) yet under nginx's default client_max_body_size
      // (1 MiB) and Apache's LimitRequestBody: the app answers, as a BOSH client reads it.
      const big = await request(endpoint, {
        body: `<body xmlns='${HTTPBIND}' rid='1' to='${domain}' wait='5' hold='1'>${'x'.repeat(100 * 1024)}</body>`,
        headers: { 'content-type': 'text/xml; charset=utf-8' }
      })
      t.equal(big.status, 200, `the app's answer, not the proxy's: ${big.text.slice(0, 200)}`)
      t.equal(parse(big.text).attrs.type, 'terminate')
      t.equal(parse(big.text).attrs.condition, 'bad-request')
    })
  }

  for (const [n, proxy] of proxies.entries()) {
    t.test(`through ${proxy.name}: SASL sign-in limits count the address the proxy forwards`, async t => {
      const endpoint = `${proxy.url}/http-bind`
      let attempt = 0
      // A new session and a new username each time, so that only the per-address limit can refuse.
      const signIn = async (forwardedFor: string): Promise<string> => {
        const headers = { 'content-type': 'text/xml; charset=utf-8', 'x-forwarded-for': forwardedFor }
        const created = await request(endpoint, { body: `<body xmlns='${HTTPBIND}' rid='10' to='${domain}' wait='5' hold='1' ver='1.6'/>`, headers })
        const sid = parse(created.text).attrs.sid ?? ''
        const plain = Buffer.from(`\u0000nobody-${proxy.name}-${++attempt}\u0000wrong password!`).toString('base64')
        const auth = await request(endpoint, {
          body: `<body xmlns='${HTTPBIND}' sid='${sid}' rid='11'><auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain}</auth></body>`,
          headers
        })
        return parse(auth.text).getChild('failure')?.getChildElements()[0]?.name ?? auth.text
      }
      const statuses: string[] = []
      for (let i = 0; i <= LOGIN_MAX; i++) statuses.push(await signIn(`198.51.100.${n + 1}`))
      t.same(statuses, [...Array(LOGIN_MAX).fill('not-authorized'), 'temporary-auth-failure'],
        'one forwarded address runs into the limit')
      t.equal(await signIn(`198.51.100.${n + 101}`), 'not-authorized', 'another forwarded address is still allowed')
    })
  }

  t.test(`a BOSH request held ${LONG_WAIT} s, past the proxies' default ${PROXY_DEFAULT_TIMEOUT} s, is not cut`, async t => {
    const results = await Promise.all(longHolds)
    for (const [i, proxy] of proxies.entries()) {
      const { status, waited, text, wait } = results[i] ?? { status: 0, waited: 0, text: 'missing', wait: '' }
      t.equal(wait, String(LONG_WAIT), `${proxy.name}: the session's wait`)
      t.equal(status, 200, `${proxy.name}: ${text}`)
      const body = status === 200 ? parse(text) : undefined
      t.equal(body?.attrs.type, undefined, `${proxy.name}: not a terminate: ${text}`)
      t.same(body?.getChildElements().length, 0, `${proxy.name}: the empty answer at the end of the wait`)
      // A lower bound the app's timer guarantees: the hold really outlived the proxy's default.
      t.ok(waited >= PROXY_DEFAULT_TIMEOUT * 1000, `${proxy.name}: held ${waited} ms`)
    }
  })
})

/** A signed-in user in no room, so that nothing wakes the hold: one empty request held for the whole wait. */
async function longHold (proxy: Proxy): Promise<{ status: number, waited: number, text: string, wait: string }> {
  const username = `sleeper-${proxy.name}`
  const registered = await request(`${proxy.url}/api/register`, { body: { username, password: PASSWORD }, headers: { origin: proxy.origin } })
  if (registered.status !== 201) return { status: registered.status, waited: 0, text: `register: ${registered.text}`, wait: '' }
  const x = new BoshClient(`${proxy.url}/http-bind`, domain)
  const created = await x.create(LONG_WAIT)
  await x.signIn(username, PASSWORD)
  const began = Date.now()
  const answer = await BoshClient.raw(x.url, `<body xmlns='${HTTPBIND}' sid='${x.sid}' rid='${++x.rid}'/>`)
  return { status: answer.status, waited: Date.now() - began, text: answer.text, wait: created.attrs.wait ?? '' }
}
