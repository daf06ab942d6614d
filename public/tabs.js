/* global BroadcastChannel, navigator, window, document, setInterval, setTimeout, clearTimeout */
import { PollLoop } from './poll.js'
import { localHoldStore } from './hold.js'
import { randomId } from './ui.js'

// Browsers allow about six connections per host, so the tabs of one browser
// share ONE long poll. One tab is the leader: it runs the PollLoop and passes
// everything it learns to the others over a BroadcastChannel. The leader is
// elected with the Web Locks API (the lock is held for the tab's life and the
// browser hands it to the next waiting tab when the leader goes away); where
// navigator.locks is missing (plain-HTTP origins, old browsers) a heartbeat
// election over the same channel stands in.
//
// Messages on the channel, all `{kind, …}`:
//   batch {events, cursor}   the leader received events
//   head {cursor}            the leader started from a fresh head: reload what is shown
//   status {status}          connected | reconnecting
//   unauth                   the session ended
//   auth                     a tab signed in or out: everyone re-checks api/me
//   hello / state {cursor, status}   a new tab asks, the leader answers
//   heartbeat / claim / resign {tab} only for the fallback election

const HEARTBEAT_MS = 1000
const LEADER_TIMEOUT_MS = 3000
// Long enough for a rival's claim to arrive when the browser is busy: two tabs whose claims crossed both
// became leader (two polls) when messages took more than 400 ms on a loaded machine. A takeover after a
// resign costs this much once; it is the fallback path only (no navigator.locks).
const CLAIM_WAIT_MS = 1000

export class TabHub {
  /**
   * @param {string} scope keeps apps under different base paths apart
   * @param {object} handlers events(events), head(), status(s), unauthenticated(), auth()
   */
  constructor (scope, handlers) {
    this.scope = scope
    this.handlers = handlers
    this.tabId = randomId()
    this.isLeader = false
    this.signedIn = false
    /** The last cursor this tab knows of: a new leader resumes from it. */
    this.cursor = null
    this.status = null
    this.loop = null
    /** This browser's idle verdict, which the leader's polls carry. */
    this.away = false
    this.claiming = false
    this.lastHeartbeat = 0
    if (typeof BroadcastChannel === 'function') {
      this.channel = new BroadcastChannel('chat-poll:' + scope)
      this.channel.onmessage = (e) => this.receive(e.data)
    } else {
      this.channel = null // alone: this tab is the only one we can know of
    }
  }

  start () {
    if (this.channel === null) {
      this.becomeLeader()
      return
    }
    this.post({ kind: 'hello' })
    if (navigator.locks && typeof navigator.locks.request === 'function') {
      navigator.locks.request('chat-poll-leader:' + this.scope, () =>
        new Promise(() => { this.becomeLeader() }) // never settles: held until the tab goes away
      ).catch(() => this.electWithHeartbeat())
    } else {
      this.electWithHeartbeat()
    }
  }

  post (message) {
    if (this.channel !== null) this.channel.postMessage(message)
  }

  /** Whether a user is signed in: only then does the leader poll. */
  setSignedIn (value) {
    if (this.signedIn === value) return
    this.signedIn = value
    if (!value) {
      this.stopLoop()
      this.cursor = null // cursors are per user: the next one starts from the head
      this.status = null
    } else {
      this.maybeStartLoop()
    }
  }

  /** Every tab judges idleness alike (idle.js); the leader's poll tells the server. */
  setAway (away) {
    this.away = away
    if (this.loop !== null) this.loop.setAway(away)
  }

  /** Tell the other tabs that this one signed in or out. */
  announceAuth () {
    this.post({ kind: 'auth' })
  }

  becomeLeader () {
    this.isLeader = true
    document.documentElement.dataset.pollLeader = 'true' // visible to tests and devtools
    this.maybeStartLoop()
  }

  stepDown () {
    this.isLeader = false
    delete document.documentElement.dataset.pollLeader
    this.stopLoop()
  }

  maybeStartLoop () {
    if (!this.isLeader || !this.signedIn || this.loop !== null) return
    const loop = new PollLoop({
      cursor: this.cursor,
      // Whichever tab leads starts from the hold an earlier leader learned.
      holdStore: localHoldStore(this.scope),
      away: this.away,
      onBatch: (events, cursor) => {
        this.cursor = cursor
        this.post({ kind: 'batch', events, cursor })
        if (events.length) this.handlers.events(events)
      },
      onHead: (cursor) => {
        this.cursor = cursor
        this.post({ kind: 'head', cursor })
        this.handlers.head()
      },
      onStatus: (status) => {
        this.status = status
        this.post({ kind: 'status', status })
        this.handlers.status(status)
      },
      onUnauthenticated: () => {
        this.loop = null
        this.setSignedIn(false)
        this.post({ kind: 'unauth' })
        this.handlers.unauthenticated()
      }
    })
    this.loop = loop
    loop.start()
  }

  stopLoop () {
    if (this.loop !== null) {
      this.loop.stop()
      this.loop = null
    }
  }

  receive (m) {
    if (!m || typeof m !== 'object') return
    switch (m.kind) {
      case 'batch':
        if (this.isLeader) return
        this.cursor = m.cursor
        if (m.events.length) this.handlers.events(m.events)
        break
      case 'head':
        if (this.isLeader) return
        this.cursor = m.cursor
        this.handlers.head()
        break
      case 'status':
        if (this.isLeader) return
        this.status = m.status
        this.handlers.status(m.status)
        break
      case 'state':
        if (this.isLeader) return
        if (this.cursor === null && m.cursor) this.cursor = m.cursor
        if (m.status) {
          this.status = m.status
          this.handlers.status(m.status)
        }
        break
      case 'hello':
        if (this.isLeader) this.post({ kind: 'state', cursor: this.cursor, status: this.status })
        break
      case 'unauth':
        this.setSignedIn(false)
        this.handlers.unauthenticated()
        break
      case 'auth':
        this.handlers.auth()
        break
      case 'heartbeat':
        if (!this.heartbeatMode) return
        this.lastHeartbeat = Date.now()
        this.claiming = false
        // Two leaders (a race at start-up): the smaller tab id keeps the job.
        if (this.isLeader && m.tab < this.tabId) {
          this.stepDown()
        }
        break
      case 'claim':
        if (!this.heartbeatMode) return
        if (this.isLeader) {
          this.post({ kind: 'heartbeat', tab: this.tabId })
        } else if (this.claiming && m.tab < this.tabId) {
          this.claiming = false
          this.lastHeartbeat = Date.now()
        }
        break
      case 'resign':
        if (!this.heartbeatMode || this.isLeader) return
        this.lastHeartbeat = 0
        setTimeout(() => this.tick(), Math.random() * 150)
        break
    }
  }

  // --- fallback election: heartbeats over the BroadcastChannel ---

  electWithHeartbeat () {
    this.heartbeatMode = true
    // Give a living leader one heartbeat period to speak before claiming.
    this.lastHeartbeat = Date.now() - LEADER_TIMEOUT_MS + HEARTBEAT_MS * 1.5
    setInterval(() => this.tick(), HEARTBEAT_MS)
    window.addEventListener('pagehide', () => {
      if (this.isLeader) {
        this.stepDown()
        this.post({ kind: 'resign', tab: this.tabId })
      }
    })
  }

  tick () {
    if (this.isLeader) {
      this.post({ kind: 'heartbeat', tab: this.tabId })
      return
    }
    if (this.claiming || Date.now() - this.lastHeartbeat < LEADER_TIMEOUT_MS) return
    this.claiming = true
    this.post({ kind: 'claim', tab: this.tabId })
    clearTimeout(this.claimTimer)
    this.claimTimer = setTimeout(() => {
      if (!this.claiming) return
      this.claiming = false
      this.post({ kind: 'heartbeat', tab: this.tabId })
      this.becomeLeader()
    }, CLAIM_WAIT_MS)
  }
}
