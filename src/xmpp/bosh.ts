import type { FastifyReply } from 'fastify'
import type { BoshSession } from './bosh-session.js'
import { BoshSession as Session } from './bosh-session.js'
import { createSession, parseRid, parseSeconds, type BoshOptions } from './bosh-create.js'
import type { Arrival, XmppServices } from './context.js'
import { holdRequest } from './hold.js'
import { NS } from './namespaces.js'
import type { BoshSessions } from './sessions.js'
import { boshBody, terminateBody } from './stanzas.js'
import { handleElement, restart } from './stream.js'
import type { Element } from './xml.js'

export type { BoshOptions }

/** What a request's `<body/>` asks of the transport besides its stanzas. */
interface RequestTerms {
  rid: number
  /** `pause` (§10), already checked against `maxpause`. */
  pause: number | null
  /** The client's `ack` (§9.2): the highest rid it has every answer up to. */
  ack: number | null
}

/** An empty request: no stanzas, no restart, no terminate, no pause. */
const isEmpty = (body: Element): boolean =>
  body.getChildElements().length === 0 && body.attrs['xmpp:restart'] !== 'true' && body.attrs.type !== 'terminate' && body.attrs.pause === undefined

/**
 * One request of a session: its stanzas run after the earlier requests'
 * (in turn), then it answers with what they produced, or is held until the
 * event stream or a later request gives it something, or `wait` passes. A
 * polling session, a pause, and a client that reports a missing answer are
 * answered at once.
 */
async function respond (ctx: XmppServices, session: BoshSession, body: Element, terms: RequestTerms, arrival: Arrival, sessions: BoshSessions): Promise<string> {
  const departure = Session.newDeparture()
  const onClose = (): void => { if (!arrival.reply.raw.writableFinished) departure.leave() }
  arrival.reply.raw.once('close', onClose)
  session.inFlight++
  // §10: a pause answers every pending request at once; any new request answers the held one.
  session.release()
  const arrived = Date.now()
  try {
    return await session.serially(async () => {
      if (await signedOut(ctx, session)) await sessions.end(session, 'policy-violation')
      if (session.ended) return terminateBody(session.endCondition)
      if (body.attrs['xmpp:restart'] === 'true') session.outbox.push(...restart(session.xmpp))
      for (const child of body.getChildElements()) session.outbox.push(...await handleElement(ctx, session.xmpp, child, arrival))
      if (body.attrs.type === 'terminate') {
        await sessions.end(session)
        return boshBody({ type: 'terminate' }, session.drain()).toString()
      }
      // §10: the answer to a pause carries no payloads; they wait for the next request.
      if (terms.pause !== null) {
        session.pausedFor = terms.pause
        await sessions.save(session, terms.rid, [])
        return boshBody({ ack: session.ackFor(terms.rid) }).toString()
      }
      const missing = terms.ack === null ? null : session.missing(terms.ack)
      if (session.outbox.length === 0) {
        // An earlier request not answered yet is held on another node (or lost): never keep the client waiting behind it.
        const earlierOpen = session.savedRid < terms.rid - 1
        const waitMs = session.polling || missing !== null || earlierOpen || session.shuttingDown ? 0 : session.terms.waitSeconds * 1000
        await holdRequest(ctx, session, departure, arrival.ip, waitMs)
      }
      if (session.ended) {
        await sessions.end(session)
        return boshBody({ type: 'terminate', condition: session.endCondition }, session.drain()).toString()
      }
      const out = await sessions.save(session, terms.rid, session.drain())
      if (session.polling) session.lastEmptyPoll = isEmpty(body) && out.length === 0 ? arrived : null
      return boshBody({ ack: session.ackFor(terms.rid), report: missing?.report, time: missing?.time }, out).toString()
    })
  } finally {
    arrival.reply.raw.removeListener('close', onClose)
    session.inFlight--
    session.touch()
  }
}

/**
 * A rid answered before this node rebuilt the session (its answer is not in
 * memory): the last one answered is answered again from the cursor it
 * started from, with the events since (the client lost that answer, §14.3);
 * an earlier one inside the window gets an empty answer (its answer went out
 * or goes out where it was held); one further back ends the session.
 */
async function answerAgain (ctx: XmppServices, session: BoshSession, rid: number, arrival: Arrival, sessions: BoshSessions): Promise<string> {
  if (rid <= session.savedRid - session.terms.requests) {
    await sessions.end(session, 'item-not-found')
    return terminateBody('item-not-found')
  }
  const answer = session.serially(async () => {
    if (rid < session.savedRid || session.previousCursor === null) return boshBody({}).toString()
    // Up to where that answer went: this node's feed may not have read so far yet.
    const target = session.savedCursor ?? session.previousCursor
    const deadline = Date.now() + session.terms.waitSeconds * 1000
    session.xmpp.cursor = session.previousCursor
    for (;;) {
      await holdRequest(ctx, session, Session.newDeparture(), arrival.ip, 0)
      if (session.ended || (session.xmpp.cursor ?? 0) >= target || Date.now() > deadline) break
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    if (session.ended) {
      await sessions.end(session)
      return terminateBody(session.endCondition)
    }
    return boshBody({}, await sessions.save(session, rid, session.drain(), true)).toString()
  })
  session.remember(rid, answer)
  return await answer
}

/** A stream whose sign-in was ended since (logout, revocation, disabled account) stops here. */
async function signedOut (ctx: XmppServices, session: BoshSession): Promise<boolean> {
  const cookie = session.xmpp.cookie
  return cookie !== null && await ctx.auth.fromCookie(cookie, true) === null
}

/**
 * The transport rules a new request must keep, or the condition that ends
 * the session: a `pause` within `maxpause` (§10), and in a polling session
 * no empty request sooner than `polling` after an empty answer (§12).
 */
function violation (session: BoshSession, body: Element): string | null {
  if (body.attrs.pause !== undefined) {
    const pause = parseSeconds(body.attrs.pause)
    if (pause === null) return 'bad-request'
    if (pause > session.terms.maxPauseSeconds) return 'policy-violation'
  }
  if (body.attrs.ack !== undefined && parseRid(body.attrs.ack) === null) return 'bad-request'
  const last = session.lastEmptyPoll
  if (session.polling && isEmpty(body) && last !== null && Date.now() - last < session.terms.pollingSeconds * 1000) return 'policy-violation'
  return null
}

/** Any request to the endpoint, once its body parsed as a `<body/>`. */
export async function handleBody (ctx: XmppServices, sessions: BoshSessions, body: Element, reply: FastifyReply, ip: string, options: BoshOptions): Promise<string> {
  if (body.name !== 'body' || body.attrs.xmlns !== NS.httpbind) return terminateBody('bad-request')
  const sid = body.attrs.sid
  if (sid === undefined) return await createSession(ctx, sessions, body, options)
  const session = await sessions.current(sid)
  if (typeof session === 'string') return terminateBody(session)
  const rid = parseRid(body.attrs.rid)
  if (rid !== null && session.rebuilt && rid <= session.savedRid && !session.hasAnswer(rid)) {
    return await answerAgain(ctx, session, rid, { ip, reply }, sessions)
  }
  const check = rid === null ? 'refuse' : session.checkRid(rid)
  if (check === 'refuse') {
    await sessions.end(session, 'item-not-found')
    return terminateBody('item-not-found')
  }
  if (check !== 'next') return await check
  const broken = violation(session, body)
  if (broken !== null) {
    await sessions.end(session, broken)
    return terminateBody(broken)
  }
  const terms: RequestTerms = { rid: rid as number, pause: parseSeconds(body.attrs.pause), ack: parseRid(body.attrs.ack) }
  if (terms.ack !== null) session.acknowledged(terms.ack)
  session.resume()
  session.touch()
  const answer = respond(ctx, session, body, terms, { ip, reply }, sessions)
  session.remember(terms.rid, answer)
  return await answer
}
