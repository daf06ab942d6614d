import type { FastifyReply } from 'fastify'
import type { BoshSession, BoshTerms } from './bosh-session.js'
import { BoshSession as Session } from './bosh-session.js'
import { XmppState, type Arrival, type XmppServices } from './context.js'
import { holdRequest } from './hold.js'
import { NS } from './namespaces.js'
import type { BoshSessions } from './sessions.js'
import { boshBody, streamFeatures, terminateBody } from './stanzas.js'
import { handleElement, restart } from './stream.js'
import type { Element } from './xml.js'

export interface BoshOptions {
  /** The longest hold granted, in seconds: under the proxies' timeouts, like a poll's. */
  maxWaitSeconds: number
  inactivitySeconds: number
}

const ridPattern = /^[0-9]{1,16}$/

function parseRid (value: string | undefined): number | null {
  return value !== undefined && ridPattern.test(value) && Number.isSafeInteger(Number(value)) ? Number(value) : null
}

/** The session creation request (XEP-0124 §7.1, XEP-0206 §4): terms granted, and the stream's first features. */
function create (ctx: XmppServices, sessions: BoshSessions, body: Element, options: BoshOptions): string {
  const rid = parseRid(body.attrs.rid)
  if (rid === null) return terminateBody('bad-request')
  if ((body.attrs.to ?? '').toLowerCase() !== ctx.domains.domain) return terminateBody('host-unknown')
  const wanted = Number(body.attrs.wait ?? options.maxWaitSeconds)
  const terms: BoshTerms = {
    waitSeconds: Number.isInteger(wanted) && wanted >= 1 ? Math.min(wanted, options.maxWaitSeconds) : options.maxWaitSeconds,
    inactivitySeconds: options.inactivitySeconds,
    requests: 2,
    hold: 1
  }
  const session = sessions.open(terms, rid, new XmppState(ctx.domains))
  if (session === null) return terminateBody('service-unavailable')
  return boshBody({
    sid: session.sid,
    wait: terms.waitSeconds,
    requests: terms.requests,
    hold: terms.hold,
    inactivity: terms.inactivitySeconds,
    polling: 2,
    ver: '1.11',
    from: ctx.domains.domain,
    authid: session.sid,
    'xmpp:version': '1.0',
    'xmlns:xmpp': NS.xbosh,
    'xmpp:restartlogic': 'true'
  }, [streamFeatures(false)]).toString()
}

/**
 * One request of a session: its stanzas run after the earlier requests'
 * (in turn), then it answers with what they produced, or is held until the
 * event stream or a later request gives it something, or `wait` passes.
 */
async function respond (ctx: XmppServices, session: BoshSession, body: Element, arrival: Arrival, sessions: BoshSessions): Promise<string> {
  const departure = Session.newDeparture()
  const onClose = (): void => { if (!arrival.reply.raw.writableFinished) departure.leave() }
  arrival.reply.raw.once('close', onClose)
  session.inFlight++
  session.release()
  try {
    return await session.serially(async () => {
      if (await signedOut(ctx, session)) sessions.end(session, 'policy-violation')
      if (session.ended) return terminateBody(session.endCondition)
      if (body.attrs['xmpp:restart'] === 'true') session.outbox.push(...restart(session.xmpp))
      for (const child of body.getChildElements()) session.outbox.push(...await handleElement(ctx, session.xmpp, child, arrival))
      if (body.attrs.type === 'terminate') {
        sessions.end(session)
        return boshBody({ type: 'terminate' }, session.drain()).toString()
      }
      if (session.outbox.length === 0) await holdRequest(ctx, session, departure, arrival.ip)
      if (session.ended) return boshBody({ type: 'terminate', condition: session.endCondition }, session.drain()).toString()
      return boshBody({}, session.drain()).toString()
    })
  } finally {
    arrival.reply.raw.removeListener('close', onClose)
    session.inFlight--
    session.touch()
  }
}

/** A stream whose sign-in was ended since (logout, revocation, disabled account) stops here. */
async function signedOut (ctx: XmppServices, session: BoshSession): Promise<boolean> {
  const cookie = session.xmpp.cookie
  return cookie !== null && await ctx.auth.fromCookie(cookie, true) === null
}

/** Any request to the endpoint, once its body parsed as a `<body/>`. */
export async function handleBody (ctx: XmppServices, sessions: BoshSessions, body: Element, reply: FastifyReply, ip: string, options: BoshOptions): Promise<string> {
  if (body.name !== 'body' || body.attrs.xmlns !== NS.httpbind) return terminateBody('bad-request')
  const sid = body.attrs.sid
  if (sid === undefined) return create(ctx, sessions, body, options)
  const session = sessions.get(sid)
  if (session === undefined) return terminateBody('item-not-found')
  const rid = parseRid(body.attrs.rid)
  const check = rid === null ? 'refuse' : session.checkRid(rid)
  if (check === 'refuse') {
    sessions.end(session, 'item-not-found')
    return terminateBody('item-not-found')
  }
  if (check !== 'next') return await check
  session.touch()
  const answer = respond(ctx, session, body, { ip, reply }, sessions)
  session.remember(rid as number, answer)
  return await answer
}
