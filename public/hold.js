// How long a poll may be held on this browser's path to the server.
//
// Corporate forward proxies, hosting routers and CDN fronts cut requests that
// stay silent longer than their own read timeout (Squid: 30 s by many
// configurations; Cloudflare-like fronts: 100 s), answering with their own
// 502/503/504 page or just dropping the connection. The server holds a poll
// for POLL_TIMEOUT seconds unless the client asks for less (`timeout=`), so a
// hold longer than the path allows fails every quiet poll. The client learns
// the longest hold that survives: a poll cut after being held for most of its
// expected hold is not an outage but "hold too long", and the next poll asks
// for a little less. Now and then it tries longer again: proxies change.

/** Never ask for less than this: shorter holds only multiply requests. */
export const MIN_HOLD_S = 5
/** The contract's default POLL_TIMEOUT: what a poll without `timeout=` is held for, until seen otherwise. */
export const DEFAULT_HOLD_S = 25
/** The contract's default POLL_MAX_TIMEOUT: no probe asks for more. */
export const MAX_HOLD_S = 55
/** How long a learned hold is trusted before a longer one is tried. */
export const PROBE_EVERY_MS = 10 * 60 * 1000
/** A cut must come at least this far into a hold to count as "too long"; earlier is an outage. */
const MOST_OF_HOLD = 0.5

/**
 * What a failed poll means.
 * - 'hold-too-long': something on the path (not our server) gave up on a held
 *   request: re-poll at once with a shorter hold; no failure, no status change.
 * - 'outage': the server is unreachable or says it is unavailable: back off.
 *
 * @param {object} f
 * @param {number} f.status HTTP status; 0 when the connection failed or dropped
 * @param {boolean} f.ours the answer carried our JSON error body
 * @param {number} f.heldMs how long the request was open
 * @param {number} f.expectedHoldS the hold the server was expected to keep it for
 * @returns {'hold-too-long'|'outage'}
 */
export function classifyPollFailure ({ status, ours, heldMs, expectedHoldS }) {
  const fromThePath = status === 0 || ((status === 502 || status === 503 || status === 504) && !ours)
  if (!fromThePath) return 'outage'
  const threshold = Math.max(MIN_HOLD_S, expectedHoldS * MOST_OF_HOLD) * 1000
  return heldMs >= threshold ? 'hold-too-long' : 'outage'
}

/** The hold to ask for after a cut at `heldMs`: a margin below it, never under MIN_HOLD_S. */
export function holdBelow (heldMs) {
  const seconds = heldMs / 1000
  const margin = Math.max(2, seconds * 0.1)
  return Math.max(MIN_HOLD_S, Math.floor(seconds - margin))
}

/**
 * The learned hold and when to probe. `store` persists it for the browser
 * (localStorage: every tab's leader starts from what an earlier one learned).
 */
export class HoldPolicy {
  /**
   * @param {object} o
   * @param {{load: () => ({hold: number, at: number}|null), save: (v: {hold: number, at: number}|null) => void}} o.store
   * @param {() => number} [o.now]
   */
  constructor ({ store, now = Date.now }) {
    this.store = store
    this.now = now
    const saved = store.load()
    /** Seconds known to survive the path, or null: nothing cut a poll yet (ask the server's default). */
    this.learned = saved && Number.isInteger(saved.hold) && saved.hold >= MIN_HOLD_S ? saved.hold : null
    this.learnedAt = this.learned !== null && Number.isFinite(saved.at) ? saved.at : 0
    /** What a poll without `timeout=` was seen to be held for (empty answers tell). */
    this.serverHold = null
    this.probe = null
  }

  /** The `timeout` for the next poll, in seconds, or null for the server's default. */
  next () {
    if (this.learned === null) return null
    if (this.probe === null && this.now() - this.learnedAt >= PROBE_EVERY_MS) {
      this.probe = Math.min(MAX_HOLD_S, this.learned + Math.max(MIN_HOLD_S, Math.round(this.learned / 2)))
    }
    return this.probe ?? this.learned
  }

  /** How long a poll asking for `requested` should be held when nothing happens. */
  expected (requested) {
    return requested ?? this.serverHold ?? DEFAULT_HOLD_S
  }

  /** A poll was answered after `heldMs`; `empty`: it ran to the end of its hold. */
  answered (requested, heldMs, empty) {
    if (!empty) return
    if (requested === null) {
      this.serverHold = Math.round(heldMs / 1000)
      return
    }
    if (this.probe !== null && requested === this.probe && heldMs >= requested * 900) {
      // The longer hold survived the path.
      this.probe = null
      if (requested >= MAX_HOLD_S) this.remember(null)
      else this.remember(requested)
    }
  }

  /** A poll was cut by the path after `heldMs`. */
  cut (heldMs) {
    this.probe = null
    this.remember(holdBelow(heldMs))
  }

  remember (hold) {
    this.learned = hold
    this.learnedAt = this.now()
    this.store.save(hold === null ? null : { hold, at: this.learnedAt })
  }
}

/** Keeps the learned hold in localStorage under a key per app (base path). */
export function localHoldStore (scope) {
  const key = 'chat:pollHold:' + scope
  return {
    load () {
      try {
        const raw = globalThis.localStorage.getItem(key)
        return raw ? JSON.parse(raw) : null
      } catch { return null }
    },
    save (value) {
      try {
        if (value === null) globalThis.localStorage.removeItem(key)
        else globalThis.localStorage.setItem(key, JSON.stringify(value))
      } catch { /* private mode: learned again next time */ }
    }
  }
}
