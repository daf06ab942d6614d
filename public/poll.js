/* global AbortController, setTimeout, clearTimeout, window, DOMException */
import { api, ApiError } from './api.js'
import { classifyPollFailure, HoldPolicy } from './hold.js'

// The long-poll loop. Exactly one runs per browser (see tabs.js): it follows
// the server's cursor, retries with backoff on failure and reports what it sees
// through callbacks. It never touches the page. How long it asks the server
// to hold each poll is learned from the path (hold.js): a proxy that cuts long
// holds is not an outage.

const BACKOFF_BASE_MS = 500
const BACKOFF_MAX_MS = 15000
/** Longer than the server's longest hold (POLL_MAX_TIMEOUT = 55 s): a dead
 * connection that a proxy keeps open must not stall the loop for ever. */
const REQUEST_TIMEOUT_MS = 70000

/** Exponential backoff with full jitter on the upper half: 0.5–1 × base·2^n. */
export function backoffDelay (failures) {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(failures - 1, 10))
  return Math.round(ceiling * (0.5 + Math.random() * 0.5))
}

export class PollLoop {
  /**
   * @param {object} o
   * @param {string|null} o.cursor where to resume; null starts from the head
   * @param {(events: object[], cursor: string) => void} o.onBatch
   * @param {(cursor: string) => void} o.onHead a fresh starting point: what is shown must be reloaded
   * @param {(status: 'connected'|'reconnecting') => void} o.onStatus
   * @param {() => void} o.onUnauthenticated
   * @param {{load: Function, save: Function}} [o.holdStore] where the learned hold is kept
   * @param {object} [o.api] the poll route (tests may point it elsewhere)
   * @param {boolean} [o.away] what the polls tell the server (see setAway)
   */
  constructor ({ cursor, onBatch, onHead, onStatus, onUnauthenticated, holdStore = null, api: client = api, away = false }) {
    this.cursor = cursor
    this.away = away
    /** The held request was aborted to tell the server something new: not a failure. */
    this.renewing = false
    this.api = client
    this.hold = new HoldPolicy({ store: holdStore ?? { load: () => null, save: () => {} } })
    this.onBatch = onBatch
    this.onHead = onHead
    this.onStatus = onStatus
    this.onUnauthenticated = onUnauthenticated
    this.stopped = false
    this.status = null
    this.controller = null
    this.wake = null
    this.onOnline = () => { if (this.wake) this.wake() }
  }

  start () {
    window.addEventListener('online', this.onOnline)
    this.run().catch(err => console.error('poll loop crashed', err))
  }

  /**
   * Away or back: the server learns it from the polls, so a held one is
   * replaced at once (the cursor stays: nothing is lost) rather than waiting
   * out its hold. It happens once per change, minutes apart.
   */
  setAway (away) {
    if (this.away === away) return
    this.away = away
    if (this.controller) {
      this.renewing = true
      this.controller.abort()
    }
  }

  /** Stops at once, aborting the held request (the server forgets it). */
  stop () {
    this.stopped = true
    window.removeEventListener('online', this.onOnline)
    if (this.controller) this.controller.abort()
    if (this.wake) this.wake()
  }

  async run () {
    let failures = 0
    while (!this.stopped) {
      const controller = new AbortController()
      this.controller = controller
      this.renewing = false
      const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS)
      const started = Date.now()
      const fromHead = this.cursor == null
      const requested = fromHead ? null : this.hold.next()
      try {
        const answer = await this.api.poll(this.cursor, controller.signal, requested, this.away)
        if (this.stopped) return
        this.setStatus('connected')
        failures = 0
        if (typeof answer?.cursor !== 'string') throw new ApiError(502, { message: 'Malformed poll answer' })
        this.cursor = answer.cursor
        if (fromHead) {
          this.onHead(answer.cursor)
        } else {
          const events = Array.isArray(answer.events) ? answer.events : []
          this.hold.answered(requested, Date.now() - started, events.length === 0)
          this.onBatch(events, answer.cursor)
          // An empty answer straight away would otherwise spin: pause a little.
          if (events.length === 0 && Date.now() - started < 1000) await this.sleep(1000)
        }
      } catch (err) {
        if (this.stopped) return
        if (this.renewing) continue
        if (err instanceof ApiError && err.status === 401) {
          this.stopped = true
          this.onUnauthenticated()
          return
        }
        if (err instanceof ApiError && err.status === 409 && err.code === 'cursor_reset') {
          // The server cannot honour our cursor (a restore, say): take its head
          // and have everything reloaded.
          this.cursor = typeof err.cursor === 'string' ? err.cursor : null
          if (this.cursor !== null) this.onHead(this.cursor)
          continue
        }
        if (err instanceof ApiError && err.status === 400) {
          this.cursor = null // a cursor the server does not understand: start over from the head
          continue
        }
        const aborted = err instanceof DOMException && err.name === 'AbortError'
        if (!aborted && !fromHead && err instanceof ApiError) {
          const heldMs = Date.now() - started
          const verdict = classifyPollFailure({ status: err.status, ours: err.ours, heldMs, expectedHoldS: this.hold.expected(requested) })
          if (verdict === 'hold-too-long') {
            // Cut by a proxy on the way, not an outage: ask for less, at once.
            this.hold.cut(heldMs)
            continue
          }
        }
        failures++
        // One slow request timed out by us is not worth alarming anyone about.
        if (!aborted || failures > 1) this.setStatus('reconnecting')
        const wait = err instanceof ApiError && err.retryAfter !== null
          ? err.retryAfter + Math.round(Math.random() * 500)
          : backoffDelay(failures)
        await this.sleep(aborted && failures === 1 ? 0 : wait)
      } finally {
        clearTimeout(timer)
        if (this.controller === controller) this.controller = null
      }
    }
  }

  setStatus (status) {
    if (this.status === status) return
    this.status = status
    this.onStatus(status)
  }

  /** Sleeps, cut short by stop() or by the browser coming back online. */
  sleep (ms) {
    return new Promise(resolve => {
      const done = () => { clearTimeout(timer); this.wake = null; resolve() }
      const timer = setTimeout(done, ms)
      this.wake = done
    })
  }
}
