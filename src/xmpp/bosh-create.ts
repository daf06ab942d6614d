import { BoshSession } from './bosh-session.js'
import type { BoshTerms } from './bosh-session.js'
import { XmppState, type XmppServices } from './context.js'
import { NS } from './namespaces.js'
import type { BoshSessions } from './sessions.js'
import { boshBody, streamFeatures, terminateBody } from './stanzas.js'
import type { Element } from './xml.js'

export interface BoshOptions {
  /** The longest hold granted, in seconds: under the proxies' timeouts, like a poll's. */
  maxWaitSeconds: number
  inactivitySeconds: number
  /** The longest `pause` granted (XEP-0124 §10): a page reload in the client, not an absence. */
  maxPauseSeconds: number
  /** The shortest interval between empty polls (§11, §12). */
  pollingSeconds: number
}

const ridPattern = /^[0-9]{1,16}$/

/** A request id (§14.1): a positive integer under 2^53. */
export function parseRid (value: string | undefined): number | null {
  return value !== undefined && ridPattern.test(value) && Number.isSafeInteger(Number(value)) ? Number(value) : null
}

/** A whole number of seconds in an attribute, or null (absent or not one). */
export function parseSeconds (value: string | undefined): number | null {
  return value !== undefined && /^[0-9]{1,9}$/.test(value) ? Number(value) : null
}

/**
 * The terms a creation request gets (§7.1, §12): `wait` capped at the poll
 * timeout; `hold='0'` or `wait='0'` asks for a polling session, which is
 * answered at once, one request at a time, never faster than `polling`.
 */
function grant (body: Element, options: BoshOptions): BoshTerms {
  const wait = parseSeconds(body.attrs.wait)
  const polling = body.attrs.hold === '0' || wait === 0
  return {
    waitSeconds: polling ? 0 : wait !== null && wait >= 1 ? Math.min(wait, options.maxWaitSeconds) : options.maxWaitSeconds,
    inactivitySeconds: options.inactivitySeconds,
    requests: polling ? 1 : 2,
    hold: polling ? 0 : 1,
    pollingSeconds: options.pollingSeconds,
    maxPauseSeconds: options.maxPauseSeconds,
    acks: body.attrs.ack === '1'
  }
}

/** The session creation request (XEP-0124 §7.1, XEP-0206 §4): terms granted, and the stream's first features. */
export async function createSession (ctx: XmppServices, sessions: BoshSessions, body: Element, options: BoshOptions): Promise<string> {
  const rid = parseRid(body.attrs.rid)
  if (rid === null) return terminateBody('bad-request')
  if ((body.attrs.to ?? '').toLowerCase() !== ctx.domains.domain) return terminateBody('host-unknown')
  const terms = grant(body, options)
  const session: BoshSession | null = sessions.open(terms, rid, new XmppState(ctx.domains))
  if (session === null) return terminateBody('service-unavailable')
  // Stored before the answer: the client's next request (SASL) may go to another process or node.
  await sessions.save(session, rid, [])
  return boshBody({
    sid: session.sid,
    wait: terms.waitSeconds,
    requests: terms.requests,
    hold: terms.hold,
    inactivity: terms.inactivitySeconds,
    polling: terms.pollingSeconds,
    maxpause: terms.maxPauseSeconds,
    // §9.1: a server that will set `ack` on responses says so here, with the creation's rid.
    ack: terms.acks ? rid : undefined,
    ver: '1.11',
    from: ctx.domains.domain,
    authid: session.sid,
    'xmpp:version': '1.0',
    'xmlns:xmpp': NS.xbosh,
    'xmpp:restartlogic': 'true'
  }, [streamFeatures(false)]).toString()
}
