import t from 'tap'
import { loadClientModule } from './load.js'

// The client's rule for a failed poll (public/hold.js): a cut by something on
// the path after a long hold means "hold too long", anything else is an outage.

interface Saved { hold: number, at: number }
interface Store { load: () => Saved | null, save: (v: Saved | null) => void }
interface Policy {
  learned: number | null
  next: () => number | null
  expected: (requested: number | null) => number
  answered: (requested: number | null, heldMs: number, empty: boolean) => void
  cut: (heldMs: number) => void
}
interface HoldModule {
  classifyPollFailure: (f: { status: number, ours: boolean, heldMs: number, expectedHoldS: number }) => 'hold-too-long' | 'outage'
  holdBelow: (heldMs: number) => number
  HoldPolicy: new (o: { store: Store, now?: () => number }) => Policy
  PROBE_EVERY_MS: number
  MIN_HOLD_S: number
}

const hold = await loadClientModule<HoldModule>('hold.js')

t.test('the decision table', async t => {
  const cases: Array<[string, { status: number, ours: boolean, heldMs: number, expectedHoldS: number }, string]> = [
    ['a proxy 504 (HTML page) after a long hold', { status: 504, ours: false, heldMs: 30_000, expectedHoldS: 55 }, 'hold-too-long'],
    ['a proxy 502 after most of the hold', { status: 502, ours: false, heldMs: 20_000, expectedHoldS: 25 }, 'hold-too-long'],
    ['a proxy 503 after most of the hold', { status: 503, ours: false, heldMs: 20_000, expectedHoldS: 25 }, 'hold-too-long'],
    ['a dropped connection after a long hold', { status: 0, ours: false, heldMs: 30_000, expectedHoldS: 55 }, 'hold-too-long'],
    ['our own 503 (JSON error body) after a long hold', { status: 503, ours: true, heldMs: 30_000, expectedHoldS: 55 }, 'outage'],
    ['our own 503 at once', { status: 503, ours: true, heldMs: 5, expectedHoldS: 25 }, 'outage'],
    ['a refused connection', { status: 0, ours: false, heldMs: 3, expectedHoldS: 25 }, 'outage'],
    ['a connection cut after 2 s', { status: 0, ours: false, heldMs: 2_000, expectedHoldS: 25 }, 'outage'],
    ['a proxy 504 after 2 s', { status: 504, ours: false, heldMs: 2_000, expectedHoldS: 25 }, 'outage'],
    ['a cut well before half the hold', { status: 0, ours: false, heldMs: 10_000, expectedHoldS: 55 }, 'outage'],
    ['a proxy 500 is not a timeout', { status: 500, ours: false, heldMs: 30_000, expectedHoldS: 55 }, 'outage'],
    ['a rate limit is never a timeout', { status: 429, ours: true, heldMs: 30_000, expectedHoldS: 55 }, 'outage']
  ]
  for (const [what, failure, verdict] of cases) t.equal(hold.classifyPollFailure(failure), verdict, what)
})

t.test('the next hold sits below the cut, never under 5 s', async t => {
  t.equal(hold.holdBelow(30_000), 27, 'cut at 30 s: ask for 27 s')
  t.equal(hold.holdBelow(100_000), 90, 'cut at 100 s: 10 % below')
  t.equal(hold.holdBelow(8_000), 6)
  t.equal(hold.holdBelow(5_500), hold.MIN_HOLD_S, 'never under the minimum')
})

function memoryStore (initial: Saved | null = null): Store & { value: Saved | null } {
  const store = {
    value: initial,
    load: () => store.value,
    save: (v: Saved | null) => { store.value = v }
  }
  return store
}

t.test('a policy learns from a cut, remembers it and probes longer later', async t => {
  let now = 1_000_000
  const store = memoryStore()
  const policy = new hold.HoldPolicy({ store, now: () => now })
  t.equal(policy.next(), null, 'nothing learned: the server decides')
  t.equal(policy.expected(null), 25, 'expected: the contract default until seen')
  policy.answered(null, 55_000, true)
  t.equal(policy.expected(null), 55, 'an empty answer tells how long the server holds')

  policy.cut(30_000)
  t.equal(policy.next(), 27, 'after a cut at 30 s it asks for 27 s')
  t.same(store.value, { hold: 27, at: now }, 'and stores it for the other tabs and the next visit')

  const again = new hold.HoldPolicy({ store, now: () => now })
  t.equal(again.next(), 27, 'a new leader starts from what was learned')

  now += hold.PROBE_EVERY_MS
  const probe = again.next()
  t.ok(probe !== null && probe > 27, 'later it probes a longer hold')
  again.cut(30_500)
  t.equal(again.next(), 27, 'the probe was cut: back below the cut')

  now += hold.PROBE_EVERY_MS
  const second = again.next() as number
  again.answered(second, second * 1000 + 20, true)
  t.equal(again.next(), second, 'a probe held to its end raises the hold')
  t.equal(store.value?.hold, second)

  const early = new hold.HoldPolicy({ store: memoryStore({ hold: 27, at: now }), now: () => now })
  now += hold.PROBE_EVERY_MS
  const p = early.next() as number
  early.answered(p, 3_000, false)
  t.equal(early.next(), p, 'an answer with events says nothing about the hold: the probe goes on')
})

t.test('a broken stored value is ignored', async t => {
  const policy = new hold.HoldPolicy({ store: memoryStore({ hold: 2, at: 0 }) })
  t.equal(policy.next(), null)
  t.equal(new hold.HoldPolicy({ store: { load: () => null, save: () => {} } }).learned, null)
})
