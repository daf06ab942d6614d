import t, { type Test } from 'tap'
import { as, buildTestApp, listenOn, register, type Session } from '../helper.js'

// Many accounts from one address must not hold the server's whole poll budget:
// held polls are capped per address (an IPv6 /64 is one), as Fastify sees it.
// The visitors here come through a trusted proxy on loopback (X-Forwarded-For);
// loopback itself (local scripts, or every visitor behind a proxy that is not
// trusted) is not capped by address.
t.test('held polls per address: MAX_POLLS_PER_ADDRESS, then 429 for any account from there', async t => {
  const app = await buildTestApp(t, { MAX_POLLS_PER_ADDRESS: '3', MAX_POLLS_PER_USER: '2', TRUST_PROXY: '127.0.0.1' })
  const url = await listenOn(app)
  const [alice, bob, carol] = [await register(app, 'alice'), await register(app, 'bob'), await register(app, 'carol')]
  await as(app, alice, 'POST', '/api/rooms', { name: 'general' })
  for (const s of [bob, carol]) await as(app, s, 'POST', '/api/rooms/general/join')
  await as(app, bob, 'POST', '/api/rooms', { name: 'bobs' })
  const currentHead = async (): Promise<string> => (await as(app, alice, 'GET', '/api/poll')).json().cursor as string
  let head = await currentHead()

  const visitor = '192.0.2.10'
  // `from: null`: straight from loopback, with no forwarded address.
  const poll = async (who: Session, opts: { timeout?: number, from?: string | null, signal?: AbortSignal } = {}): Promise<Response> =>
    await fetch(`${url}/api/poll?cursor=${head}&timeout=${opts.timeout ?? 20}`, {
      headers: { cookie: who.cookie, ...(opts.from === null ? {} : { 'x-forwarded-for': opts.from ?? visitor }) },
      ...(opts.signal === undefined ? {} : { signal: opts.signal })
    })
  const heldReaches = async (t: Test, n: number): Promise<void> => {
    for (let i = 0; i < 250 && app.engine.held !== n; i++) await new Promise(resolve => setTimeout(resolve, 20))
    t.equal(app.engine.held, n, `${n} polls held`)
  }
  const isRefused = async (t: Test, res: Response, label: string, cap = 'from this address'): Promise<void> => {
    t.equal(res.status, 429, label)
    const { error } = await res.json() as { error: { code: string, message: string } }
    t.equal(error.code, 'rate_limited', label)
    t.match(error.message, cap, `${label}: ${cap}`)
    t.ok(Number(res.headers.get('retry-after')) >= 1, `${label}: Retry-After`)
  }

  const aborts = [new AbortController(), new AbortController()]
  const aliceHeld = aborts.map(async c => await poll(alice, { signal: c.signal }).catch(() => null))
  const bobHeld = poll(bob)
  await heldReaches(t, 3)
  t.equal(app.engine.registry.countFrom(visitor), 3, "counted under the visitor's address")

  // A short timeout: were the cap missing, this poll would be held and answer 200.
  await isRefused(t, await poll(carol, { timeout: 2 }), "a third account's poll from the same address")
  t.equal(app.engine.held, 3, 'the refused poll is not held')
  t.equal((await poll(carol, { timeout: 0 })).status, 200, 'a poll that is not held is never refused')

  t.test('a client that goes away gives its slot back', async t => {
    aborts[0]?.abort()
    t.equal(await aliceHeld[0], null, 'the aborted request ended')
    await heldReaches(t, 2)
    const carolHeld = poll(carol)
    await heldReaches(t, 3)
    await isRefused(t, await poll(carol, { timeout: 2 }), 'full again')

    t.test('an answered poll gives its slot back', async t => {
      await as(app, bob, 'POST', '/api/rooms/bobs/messages', { text: 'only bob sees this' })
      t.equal((await bobHeld).status, 200, "bob's poll is answered")
      await heldReaches(t, 2)
      t.equal(app.engine.registry.countFrom(visitor), 2)
      const carolAgain = poll(carol)
      await heldReaches(t, 3)
      await as(app, alice, 'POST', '/api/rooms/general/messages', { text: 'everyone' })
      for (const res of [await carolHeld, await carolAgain, await aliceHeld[1]]) t.equal(res?.status, 200)
      await heldReaches(t, 0)
      t.equal(app.engine.registry.countFrom(visitor), 0, 'nothing left counted')
    })
  })

  t.test('loopback is not capped by address; the per-account cap still holds there', async t => {
    head = await currentHead()
    const local = [poll(alice, { from: null }), poll(alice, { from: null }), poll(bob, { from: null }), poll(carol, { from: null })]
    await heldReaches(t, 4)
    t.equal(app.engine.registry.countFrom('127.0.0.1'), 4, 'more than MAX_POLLS_PER_ADDRESS held from loopback')
    await isRefused(t, await poll(alice, { timeout: 2, from: null }), 'a third poll of one account from loopback', 'for this account')
    await as(app, alice, 'POST', '/api/rooms/general/messages', { text: 'to the locals' })
    for (const res of await Promise.all(local)) t.equal(res.status, 200)
    await heldReaches(t, 0)
  })

  t.test('an IPv6 /64 is one address; another address is not affected', async t => {
    head = await currentHead()
    const v6 = [poll(alice, { from: '2001:db8:1:2::a' }), poll(alice, { from: '2001:db8:1:2::b' }), poll(bob, { from: '2001:db8:1:2:ffff::c' })]
    await heldReaches(t, 3)
    await isRefused(t, await poll(carol, { timeout: 2, from: '2001:db8:1:2::d' }), 'the same /64')
    const elsewhere = poll(carol, { from: '2001:db8:1:3::d' })
    await heldReaches(t, 4)
    const fromLoopback = poll(bob, { from: null })
    await heldReaches(t, 5)
    // A shutdown answers every held poll and leaves nothing counted.
    await app.close()
    for (const res of await Promise.all([...v6, elsewhere, fromLoopback])) t.equal(res.status, 200)
    t.equal(app.engine.registry.countFrom('2001:db8:1:2::/64'), 0)
    t.equal(app.engine.registry.countFrom('127.0.0.1'), 0)
  })
})
