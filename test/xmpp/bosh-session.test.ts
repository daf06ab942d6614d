import t from 'tap'
import { BoshSession, type BoshTerms } from '../../src/xmpp/bosh-session.js'
import { XmppState } from '../../src/xmpp/context.js'
import { xmppDomains } from '../../src/xmpp/jid.js'

const terms: BoshTerms = { waitSeconds: 3, inactivitySeconds: 60, requests: 2, hold: 1, pollingSeconds: 2, maxPauseSeconds: 120, acks: false }

// The clock is passed in: these check the rule, not the timer that applies it.
t.test('a granted pause is the inactivity allowed until the next request (XEP-0124 §10)', async t => {
  const session = new BoshSession(terms, 1, new XmppState(xmppDomains('chat.test')))
  const later = session.lastSeen + 90_000
  t.ok(session.idle(later), 'idle after 90 s without a pause')
  session.pausedFor = 120
  t.notOk(session.idle(later), 'not idle after 90 s of a 120 s pause')
  t.ok(session.idle(session.lastSeen + 121_000), 'idle after the pause')
  session.resume()
  t.ok(session.idle(later), 'the next request restores the normal inactivity')
})
