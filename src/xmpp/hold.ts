import { AppError } from '../http/errors.js'
import { addressKey } from '../http/address.js'
import type { ClientDeparture } from '../poll/engine.js'
import type { BoshSession } from './bosh-session.js'
import type { XmppServices } from './context.js'
import { eventStanzas } from './events.js'

/** Waits until `ms` pass or the departure is left, whichever first. */
async function idleWait (departure: ClientDeparture, ms: number): Promise<void> {
  await new Promise<void>(resolve => {
    const timer = setTimeout(done, ms)
    function done (): void { clearTimeout(timer); departure.onLeave(null); resolve() }
    departure.onLeave({ expire: done })
  })
}

/**
 * Holds a BOSH request (XEP-0124 §10) on the poll engine, as a long poll is
 * held: parked in the engine's waiter registry under the user, woken by the
 * feed with exactly the events the user may see, or after `waitMs`, or when a newer
 * request or the client's disconnect leaves it. Events that mean nothing to
 * this stream (rooms it has not joined) only move the cursor, and the hold goes on.
 */
export async function holdRequest (ctx: XmppServices, session: BoshSession, departure: ClientDeparture, ip: string, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs
  const state = session.xmpp
  session.held = departure
  try {
    // At least one look at the feed, also when nothing may be waited for
    // (a polling session, an answer owed at once): what is there goes out.
    do {
      const left = Math.max(0, deadline - Date.now())
      if (state.cursor === null || state.user === null) {
        if (left > 0) await idleWait(departure, left)
        continue
      }
      const answer = await ctx.engine.poll({ userId: state.user.id, address: addressKey(ip), cursor: state.cursor, limit: 100, timeoutMs: left, departure })
      state.cursor = answer.cursor
      for (const json of answer.events) {
        for (const stanza of eventStanzas(state, json)) {
          session.fromFeed.add(stanza)
          session.outbox.push(stanza)
        }
      }
    } while (session.outbox.length === 0 && !departure.left && !session.ended && !session.shuttingDown && deadline > Date.now())
  } catch (err) {
    // A server going down: the request answers as it is, and the stored
    // session goes on elsewhere. A cursor the stream cannot go on from: the
    // session ends and the client starts a new one (docs/XMPP.md).
    if (!(err instanceof AppError)) throw err
    if (err.code === 'unavailable') {
      session.shuttingDown = true
      return
    }
    session.end()
    session.endCondition = 'remote-connection-failed'
  } finally {
    if (session.held === departure) session.held = null
  }
}
