import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { buildTestApp, listenOn } from '../helper.js'
import { BoshClient, HTTPBIND, parse } from './bosh-client.js'

const domain = 'chat.test'
const page = 'https://converse.example.org'

const preflight = async (url: string, origin: string): Promise<Response> => await fetch(url, {
  method: 'OPTIONS',
  headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' }
})

/** A Converse.js page on another origin may use the BOSH endpoint when XMPP_CORS_ORIGINS lists it; nothing else changes. */
t.test('CORS for /http-bind', async t => {
  const app = await buildTestApp(t, { XMPP_DOMAIN: domain, XMPP_CORS_ORIGINS: `${page}, http://127.0.0.1:8080` })
  const base = await listenOn(app)
  const url = `${base}/http-bind`

  t.test('a listed origin: the preflight allows POST with Content-Type, the answer names the origin', async t => {
    const pre = await preflight(url, page)
    t.equal(pre.status, 204)
    t.equal(pre.headers.get('access-control-allow-origin'), page)
    t.match(pre.headers.get('access-control-allow-methods'), /POST/)
    t.match(pre.headers.get('access-control-allow-headers'), /content-type/i)
    t.notOk(pre.headers.get('access-control-allow-credentials'), 'BOSH uses no cookies')
    const res = await fetch(url, { method: 'POST', headers: { origin: page, 'content-type': 'text/xml' }, body: `<body xmlns='${HTTPBIND}' rid='10' to='${domain}' wait='3' hold='1'/>` })
    t.equal(res.status, 200)
    t.equal(res.headers.get('access-control-allow-origin'), page)
    t.ok(parse(await res.text()).attrs.sid, 'a session')
  })

  t.test('an unlisted origin gets no CORS headers', async t => {
    const pre = await preflight(url, 'https://evil.example')
    t.notOk(pre.headers.get('access-control-allow-origin'))
    const res = await fetch(url, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'text/xml' }, body: `<body xmlns='${HTTPBIND}' rid='10' to='${domain}'/>` })
    t.notOk(res.headers.get('access-control-allow-origin'))
  })

  t.test('a refused body still carries the header, so the page can read the terminate', async t => {
    const res = await fetch(url, { method: 'POST', headers: { origin: page, 'content-type': 'text/xml' }, body: 'x'.repeat(70000) })
    t.equal(res.status, 200)
    t.equal(res.headers.get('access-control-allow-origin'), page)
    t.match(parse(await res.text()).attrs, { type: 'terminate', condition: 'bad-request' })
  })

  t.test('the API gets no CORS headers from this setting', async t => {
    const res = await fetch(`${base}/api/rooms`, { headers: { origin: page } })
    t.notOk(res.headers.get('access-control-allow-origin'))
  })
})

t.test('without XMPP_CORS_ORIGINS the endpoint sends no CORS headers', async t => {
  const app = await buildTestApp(t, { XMPP_DOMAIN: domain })
  const url = `${await listenOn(app)}/http-bind`
  const pre = await preflight(url, page)
  t.notOk(pre.headers.get('access-control-allow-origin'))
  const res = await BoshClient.raw(url, `<body xmlns='${HTTPBIND}' rid='10' to='${domain}'/>`)
  t.equal(res.status, 200)
})

t.test('XMPP_CORS_ORIGINS must be a list of origins', async t => {
  for (const bad of ['converse.example.org', 'https://converse.example.org/chat', 'ftp://x.example', 'https://user:pw@x.example', '*']) {
    t.throws(() => loadConfig({ XMPP_CORS_ORIGINS: bad }, false), bad)
  }
  t.same(loadConfig({ XMPP_CORS_ORIGINS: 'https://A.example:443, http://b.example:8080' }, false).xmpp.corsOrigins, ['https://a.example', 'http://b.example:8080'])
})
