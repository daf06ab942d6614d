import t from 'tap'
import { as, buildTestApp, listenOn, register } from '../helper.js'
import { BoshClient, HTTPBIND, parse } from './bosh-client.js'

const domain = 'chat.test'
const muc = `conference.${domain}`

/** XMPP spends the HTTP API's budgets, and odd requests still get BOSH answers. */
t.test('XMPP limits', async t => {
  const app = await buildTestApp(t, { XMPP_DOMAIN: domain, POLL_TIMEOUT: '3', RATE_LIMIT_DISABLED: 'false', RATE_SEND_MAX: '2', RATE_SEND_WINDOW: '600' })
  const url = `${await listenOn(app)}/http-bind`
  const web = await register(app, 'webby')
  t.equal((await as(app, web, 'POST', '/api/rooms', { name: 'lobby' })).statusCode, 201)
  const x = new BoshClient(url, domain)
  await x.create(3)
  await x.signIn('webby', 'correct horse battery')
  await x.post(`<presence to='lobby@${muc}/webby'/>`)

  t.test('sends over HTTP and XMPP share one rate limit', async t => {
    for (const text of ['one', 'two']) t.equal((await as(app, web, 'POST', '/api/rooms/lobby/messages', { text })).statusCode, 201)
    await x.next()
    const refused = await x.post(`<message type='groupchat' to='lobby@${muc}' id='l1'><body>three</body></message>`)
    const error = refused.getChild('message')?.getChild('error')
    t.equal(error?.attrs.type, 'wait')
    t.ok(error?.getChild('resource-constraint'))
    const history = (await as(app, web, 'GET', '/api/rooms/lobby/messages')).json().events as Array<{ text: string }>
    t.notOk(history.some(e => e.text === 'three'), 'nothing stored')
  })

  t.test('a newer request answers the held one', async t => {
    const held = x.post('')
    const ping = await x.post("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>")
    t.equal(ping.getChild('iq')?.attrs.type, 'result')
    const released = await held
    t.same(released.getChildElements(), [])
    t.notOk(released.attrs.type, 'not a terminate')
  })

  t.test('invalid UTF-8 and a wrong host get terminates', async t => {
    const bytes = Buffer.concat([Buffer.from(`<body xmlns='${HTTPBIND}' rid='1' to='${domain}'>`), Buffer.from([0xff, 0xfe]), Buffer.from('</body>')])
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: bytes })
    t.equal(res.status, 200)
    t.match(parse(await res.text()).attrs, { type: 'terminate', condition: 'bad-request' })
    const other = await BoshClient.raw(url, `<body xmlns='${HTTPBIND}' rid='1' to='elsewhere.example' wait='5' hold='1'/>`)
    t.match(parse(other.text).attrs, { type: 'terminate', condition: 'host-unknown' })
  })

  t.test('the client ends the session', async t => {
    const bye = await x.post("<presence type='unavailable'/>", "type='terminate'")
    t.equal(bye.attrs.type, 'terminate')
    t.match((await x.post('')).attrs, { type: 'terminate', condition: 'item-not-found' })
  })
})
