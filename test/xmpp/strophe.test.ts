import t from 'tap'
import { as } from '../helper.js'
import { runConversation } from './strophe-script.js'
import { stageOurs } from './strophe-stage.js'

const domain = 'chat.test'
const password = 'correct horse battery'

/**
 * Strophe.js, the XMPP library under Converse.js, against this server: session
 * creation, SASL PLAIN, bind, MUC join with history, groupchat both ways,
 * one-to-one chat, a XEP-0308 correction, and a request sent twice with the same
 * rid after a lost answer. What the web API sees afterwards is checked too.
 */
t.test('Strophe.js talks to the BOSH endpoint', async t => {
  t.setTimeout(180000)
  const proxy = await stageOurs(t, domain, password)
  const { app, alice } = proxy

  const outcome = await runConversation({
    service: proxy.service, domain, muc: `conference.${domain}`, password, lobby: 'lobby', banned: 'strict', nowhere: 'nowhere'
  })
  t.same(outcome.aliceStatuses, ['CONNECTING', 'CONNECTED'], 'session creation, SASL PLAIN, bind')
  t.same(outcome.bobStatuses, ['CONNECTING', 'CONNECTED'])
  t.ok(outcome.aliceBound && outcome.bobBound, 'full JIDs bound')
  t.ok(outcome.aliceSelf110 && outcome.bobSelf110, 'self-presence with status 110')
  t.same(outcome.reflectedIds, ['a1', 'a2', 'a3'], 'each message reflected with its id')
  t.ok(outcome.reflectedFromSelf, 'from the sender\'s occupant JID')
  t.same(outcome.history, ['alice says two', 'alice says three'], 'maxstanzas=2: the last two messages')
  t.ok(outcome.historyDelayed, 'history carries XEP-0203 delays')
  t.same(outcome.bobToAlice, { from: `lobby@conference.${domain}/bob`, body: 'hello alice' })
  t.same(outcome.correction, { replaces: 'a3', body: 'alice says three!' }, 'XEP-0308 correction delivered')
  t.equal(proxy.dropped(), 1, 'the proxy lost one answer')
  t.equal(proxy.markedRids.length, 2, 'Strophe sent that request twice')
  t.equal(proxy.markedRids[0], proxy.markedRids[1], 'with the same rid')
  t.equal(outcome.replaySeenByAlice, 1, 'the resent request (same rid) is answered once more, not acted on twice')
  t.equal(outcome.replaySeenByBob, 1)
  t.same(outcome.aliceToBob, { type: 'chat', from: `alice@${domain}`, body: 'psst, bob' })
  t.same(outcome.bobToAlice1to1, { type: 'chat', from: `bob@${domain}`, body: 'yes, alice?' })
  t.equal(outcome.joinNowhere, 'cancel/item-not-found')
  t.equal(outcome.joinBanned, 'auth/forbidden')

  const events = (await as(app, alice, 'GET', '/api/rooms/lobby/messages')).json().events as Array<{ text: string, user: { username: string } }>
  t.same(events.filter(e => e.text === 'replay-me').length, 1, 'the replayed message is stored once')
  t.ok(events.some(e => e.text === 'alice says three!'), 'the correction is our edit')
  t.notOk(events.some(e => e.text === 'alice says three'), 'the original text is gone')
  t.ok(events.some(e => e.text === 'hello alice' && e.user.username === 'bob'))
})
