import t from 'tap'
import { request, sessionCookie, startApache, startApp, startNginx, type Answer, type Proxy } from './harness.js'

// Debian's nginx and Apache, each started with the snippet from deploy/ and
// its default buffering, in front of a real app process under /chat/. Only
// 127.0.0.1 (where the proxies connect from) is trusted; test clients that
// must look like strangers connect from other loopback addresses.
const LOGIN_MAX = 3
const PASSWORD = 'correct horse battery'

const startProxy = { nginx: startNginx, apache: startApache }

for (const kind of ['nginx', 'apache'] as const) {
  t.test(`behind ${kind}`, async t => {
    const app = await startApp(t, {
      TRUST_PROXY: '127.0.0.1',
      RATE_LOGIN_MAX: String(LOGIN_MAX),
      RATE_LOGIN_WINDOW: '600',
      // Every registration below comes from the proxy's one address.
      RATE_REGISTER_MAX: '1000'
    })
    const proxy = await startProxy[kind](t, app.port)
    t.teardown(() => { if (t.passing() === false) t.comment(`${kind} log:\n${proxy.log()}\napp output:\n${app.output()}`) })

    const register = async (base: string, username: string, headers: Record<string, string> = {}): Promise<Answer> =>
      await request(`${base}/api/register`, { body: { username, password: PASSWORD }, headers })

    // Started first and checked last, so its 25 s overlap the other checks.
    const defaultHold = holdWithDefaultTimeout(proxy)
      .catch((err: unknown) => ({ status: 0, waited: 0, text: String(err) }))

    const alice = await register(proxy.url, 'alice', { origin: proxy.origin })
    t.equal(alice.status, 201, `register through ${kind}: ${alice.text}`)
    const setCookie = alice.headers['set-cookie']?.[0] ?? ''
    t.match(setCookie, /Path=\/chat\//i, 'the cookie is scoped to the mount point')
    t.notMatch(setCookie, /;\s*Secure/i, 'no Secure flag over plain HTTP')
    const cookie = sessionCookie(alice)
    // A browser's write: cookie plus the Origin of the page, which is the proxy.
    const browser = { cookie, origin: proxy.origin }

    t.test('send, history and a held poll woken by a send', async t => {
      const room = await request(`${proxy.url}/api/rooms`, { body: { name: `ops-${kind}` }, headers: browser })
      t.equal(room.status, 201, `create room: ${room.text}`)

      const start = await request(`${proxy.url}/api/poll`, { headers: { cookie } })
      t.equal(start.status, 200, start.text)
      const cursor = String(start.json?.cursor)

      const began = Date.now()
      const held = request(`${proxy.url}/api/poll?cursor=${encodeURIComponent(cursor)}&timeout=20`, { headers: { cookie } })
      await new Promise(resolve => setTimeout(resolve, 500))
      const sent = await request(`${proxy.url}/api/rooms/ops-${kind}/messages`, {
        body: { text: `hello through ${kind}` }, headers: browser
      })
      t.equal(sent.status, 201, `send: ${sent.text}`)
      const woken = await held
      const waited = Date.now() - began
      t.equal(woken.status, 200, woken.text)
      t.ok(waited < 5000, `the held poll answered ${waited} ms after it began, not at its timeout`)
      const texts = (woken.json?.events ?? []).map((e: { text?: string }) => e.text)
      t.ok(texts.includes(`hello through ${kind}`), `the poll carries the message: ${woken.text}`)
      t.match(String(woken.headers['cache-control']), /no-store/, 'poll answers are not cached')

      const history = await request(`${proxy.url}/api/rooms/ops-${kind}/messages`, { headers: { cookie } })
      t.equal(history.status, 200, history.text)
      t.match(String(history.headers['cache-control']), /no-store/, 'history answers are not cached')
      t.same(history.json?.events?.map((e: { text: string }) => e.text), [`hello through ${kind}`])
    })

    t.test('Secure cookies over HTTPS through the proxy only', async t => {
      const secure = await register(proxy.httpsUrl, 'erin', { origin: new URL(proxy.httpsUrl).origin })
      t.equal(secure.status, 201, secure.text)
      t.match(secure.headers['set-cookie']?.[0] ?? '', /;\s*Secure/i, 'Secure when the proxy says the browser used HTTPS')

      const spoofed = await request(`${app.url}/api/register`, {
        body: { username: 'frank', password: PASSWORD },
        headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9' },
        localAddress: '127.0.0.2'
      })
      t.equal(spoofed.status, 201, spoofed.text)
      t.notMatch(spoofed.headers['set-cookie']?.[0] ?? '', /;\s*Secure/i,
        'a direct request is not believed when it claims HTTPS')
    })

    t.test('rate limits see the client address the trusted proxy forwards', async t => {
      // A new username on every attempt, so that only the per-address login
      // limit can answer 429 (the server also limits attempts per username).
      let attempt = 0
      const login = async (base: string, forwardedFor: string, localAddress?: string): Promise<number> => {
        const res = await request(`${base}/api/login`, {
          body: { username: `nobody-${++attempt}`, password: 'wrong password!' },
          headers: { 'x-forwarded-for': forwardedFor },
          ...(localAddress !== undefined ? { localAddress } : {})
        })
        if (res.status === 429) t.ok(res.headers['retry-after'], '429 carries Retry-After')
        return res.status
      }
      const exhaust = async (base: string, forwardedFor: (i: number) => string, localAddress?: string): Promise<number[]> => {
        const statuses: number[] = []
        for (let i = 0; i <= LOGIN_MAX; i++) statuses.push(await login(base, forwardedFor(i), localAddress))
        return statuses
      }
      const limited = [...Array(LOGIN_MAX).fill(401), 429]

      // The test client sits at 127.0.0.1, an address the app trusts, so the
      // proxy's forwarded chain is believed down to the header we send.
      t.same(await exhaust(proxy.url, () => '198.51.100.1'), limited, 'one forwarded address runs into the limit')
      t.equal(await login(proxy.url, '198.51.100.2'), 401, 'another forwarded address is still allowed')

      // A client the app does not trust, even through the proxy, is known by
      // its own address, whatever it writes in X-Forwarded-For.
      t.same(await exhaust(proxy.url, i => `198.51.100.${10 + i}`, '127.0.0.3'), limited,
        'through the proxy, a stranger\'s own X-Forwarded-For is not believed')

      // Straight to the app, from an address that is not the proxy.
      t.same(await exhaust(app.url, i => `198.51.100.${20 + i}`, '127.0.0.2'), limited,
        'sent directly to the app, a spoofed X-Forwarded-For is not believed')
    })

    t.test('a file as large as the app takes passes the proxy; a larger body gets the app\'s own 413', async t => {
      const room = await request(`${proxy.url}/api/rooms`, { body: { name: `files-${kind}` }, headers: browser })
      t.equal(room.status, 201, room.text)
      const upload = async (bytes: number): Promise<Answer> => await request(`${proxy.url}/api/rooms/files-${kind}/attachments?filename=big.bin`, {
        body: 'x'.repeat(bytes), headers: { ...browser, 'content-type': 'application/octet-stream' }, timeoutMs: 60000
      })
      // ATTACHMENT_MAX_BYTES's default, 10 MiB: far above nginx's own default limit of 1 MiB.
      const largest = await upload(10 * 1024 * 1024)
      t.equal(largest.status, 201, `stored: ${largest.text.slice(0, 200)}`)
      t.equal(largest.json?.event?.attachments?.[0]?.size, 10 * 1024 * 1024)
      const over = await upload(10 * 1024 * 1024 + 4096)
      t.equal(over.status, 413, `the app's answer, not the proxy's page: ${over.text.slice(0, 200)}`)
      t.equal(over.json?.error?.code, 'too_large')
      const json = await request(`${proxy.url}/api/rooms/files-${kind}/messages`, { body: { text: 'x'.repeat(9 * 1024 * 1024) }, headers: browser })
      t.equal(json.status, 413, `a JSON body over BODY_LIMIT: ${json.text.slice(0, 200)}`)
      t.equal(json.json?.error?.code, 'too_large')
    })

    t.test('poll answers ask proxies not to buffer', async t => {
      const start = await request(`${app.url}/api/poll`, { headers: { cookie } })
      const poll = await request(`${app.url}/api/poll?cursor=${encodeURIComponent(String(start.json?.cursor))}&timeout=0`, {
        headers: { cookie }
      })
      t.equal(poll.status, 200, poll.text)
      t.equal(poll.headers['x-accel-buffering'], 'no')
      t.match(String(poll.headers['cache-control']), /no-store/)
    })

    t.test('a poll held for the default 25 s is not cut by the proxy', async t => {
      const { status, waited, text } = await defaultHold
      t.equal(status, 200, text)
      t.ok(waited >= 23000 && waited < 30000, `held ${waited} ms`)
    })
  })
}

/** A user whom nothing happens to, polling with the default hold, through the proxy. */
async function holdWithDefaultTimeout (proxy: Proxy): Promise<{ status: number, waited: number, text: string }> {
  const quiet = await request(`${proxy.url}/api/register`, {
    body: { username: 'quiet', password: PASSWORD }, headers: { origin: proxy.origin }
  })
  if (quiet.status !== 201) return { status: quiet.status, waited: 0, text: `register: ${quiet.text}` }
  const cookie = sessionCookie(quiet)
  const start = await request(`${proxy.url}/api/poll`, { headers: { cookie } })
  const began = Date.now()
  const res = await request(`${proxy.url}/api/poll?cursor=${encodeURIComponent(String(start.json?.cursor))}`, {
    headers: { cookie }, timeoutMs: 60000
  })
  return { status: res.status, waited: Date.now() - began, text: res.text }
}
