// Strophe.js (the XMPP library under Converse.js) driven from Node, for tests:
// a client nobody here wrote, speaking BOSH to a real server. Strophe's Node
// build brings its DOM (@xmldom/xmldom) and WebSocket (ws); BOSH also needs an
// XMLHttpRequest, which Node lacks: xhr2 provides one, without `responseXML`.
// Strophe 5.0.0 then parses `responseText` but drops the result (its
// Request.getResponse returns null: a Strophe bug), so `responseXML` is added
// here, parsed by the DOMParser Strophe installs.
import XMLHttpRequest2 from 'xhr2'
import { $iq, $msg, $pres, Strophe } from 'strophe.js'

const Base = XMLHttpRequest2 as unknown as new () => { responseText: string | null, readyState: number }
class XMLHttpRequestWithXML extends Base {
  get responseXML (): Document | null {
    if (this.readyState !== 4 || this.responseText === null || this.responseText === '') return null
    return new DOMParser().parseFromString(this.responseText, 'text/xml')
  }
}
(globalThis as unknown as { XMLHttpRequest: unknown }).XMLHttpRequest = XMLHttpRequestWithXML
// Strophe logs every request at debug level by default; STROPHE_LOG=debug brings it back.
Strophe.setLogLevel(process.env.STROPHE_LOG === 'debug' ? Strophe.LogLevel.DEBUG : Strophe.LogLevel.FATAL)

export { $iq, $msg, $pres, Strophe }

export const MUC_NS = 'http://jabber.org/protocol/muc'
export const MUC_USER_NS = 'http://jabber.org/protocol/muc#user'
export const CORRECT_NS = 'urn:xmpp:message-correct:0'
export const STANZAS_NS = 'urn:ietf:params:xml:ns:xmpp-stanzas'

type StanzaBuilder = ReturnType<typeof $msg>

const statusNames = new Map<number, string>(Object.entries(Strophe.Status).map(([name, value]) => [value as number, name]))

/** One Strophe connection with an inbox: every stanza it receives, taken out by tests in order. */
export class StropheClient {
  readonly conn: InstanceType<typeof Strophe.Connection>
  /** The connection statuses in the order Strophe reported them (CONNECTING, AUTHENTICATING, CONNECTED…). */
  readonly statuses: string[] = []
  readonly inbox: Element[] = []
  private wake: Array<() => void> = []

  constructor (readonly service: string) {
    // PLAIN only: the mechanism under test (Prosody would otherwise pick SCRAM).
    this.conn = new Strophe.Connection(service, { mechanisms: [Strophe.SASLPlain] } as never)
  }

  /** Connects and signs in; resolves with the status names once connected, rejects on a failure status. */
  async connect (jid: string, password: string, wait = 5): Promise<string[]> {
    return await new Promise((resolve, reject) => {
      this.conn.connect(jid, password, (status: number, condition?: string) => {
        const name = statusNames.get(status) ?? String(status)
        this.statuses.push(condition === undefined || condition === null ? name : `${name}:${condition}`)
        if (status === Strophe.Status.CONNECTED) {
          this.conn.addHandler((stanza: Element) => {
            this.inbox.push(stanza)
            for (const w of this.wake.splice(0)) w()
            return true
          }, null as never, null as never)
          resolve(this.statuses)
        } else if (status === Strophe.Status.AUTHFAIL || status === Strophe.Status.CONNFAIL || status === Strophe.Status.DISCONNECTED) {
          reject(new Error(`connection failed: ${this.statuses.join(' ')}`))
        }
      }, wait, 1)
    })
  }

  send (stanza: StanzaBuilder | Element): void {
    this.conn.send(stanza as never)
  }

  /** Takes the first stanza in the inbox matching `test`, waiting for it up to `timeoutMs`. */
  async take (what: string, test: (s: Element) => boolean, timeoutMs = 20000): Promise<Element> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const i = this.inbox.findIndex(test)
      if (i >= 0) return this.inbox.splice(i, 1)[0] as Element
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for ${what}; inbox: ${this.inbox.map(s => Strophe.serialize(s)).join('\n')}`)
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, left)
        this.wake.push(() => { clearTimeout(timer); resolve() })
      })
    }
  }

  /** Takes every stanza matching `test` that arrived so far. */
  drain (test: (s: Element) => boolean): Element[] {
    const out = this.inbox.filter(test)
    for (const s of out) this.inbox.splice(this.inbox.indexOf(s), 1)
    return out
  }

  /** Sends an IQ and waits for its result or error stanza. */
  async iq (stanza: ReturnType<typeof $iq>, timeoutMs = 20000): Promise<Element> {
    return await new Promise((resolve, reject) => {
      this.conn.sendIQ(stanza as never, (r: Element) => { resolve(r) }, (r: Element | null) => { r === null ? reject(new Error('iq timed out')) : resolve(r) }, timeoutMs)
    })
  }

  async disconnect (): Promise<void> {
    if (!this.conn.connected) return
    await new Promise<void>(resolve => {
      const timer = setTimeout(resolve, 5000)
      this.conn.connect_callback = (status: number) => {
        if (status === Strophe.Status.DISCONNECTED) { clearTimeout(timer); resolve() }
      }
      this.conn.disconnect('done')
    })
  }
}

/** The first child element with this name (and namespace, if given). */
export function child (el: Element | undefined, name: string, ns?: string): Element | undefined {
  if (el === undefined) return undefined
  for (let n = el.firstChild; n !== null; n = n.nextSibling) {
    if (n.nodeType !== 1) continue
    const e = n as Element
    if ((e.localName ?? e.nodeName) === name && (ns === undefined || e.namespaceURI === ns)) return e
  }
  return undefined
}

export function children (el: Element, name: string, ns?: string): Element[] {
  const out: Element[] = []
  for (let n = el.firstChild; n !== null; n = n.nextSibling) {
    if (n.nodeType !== 1) continue
    const e = n as Element
    if ((e.localName ?? e.nodeName) === name && (ns === undefined || e.namespaceURI === ns)) out.push(e)
  }
  return out
}

export function text (el: Element | undefined): string | undefined {
  return el?.textContent ?? undefined
}

/** The XMPP status codes of a MUC presence (`<x xmlns='…muc#user'><status code/>`). */
export function statusCodes (presence: Element): string[] {
  const x = child(presence, 'x', MUC_USER_NS)
  return x === undefined ? [] : children(x, 'status').map(s => s.getAttribute('code') ?? '')
}

/** The defined condition of a stanza error: `type/condition`, or undefined. */
export function errorOf (stanza: Element): string | undefined {
  const error = child(stanza, 'error')
  if (error === undefined) return undefined
  for (let n = error.firstChild; n !== null; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as Element).namespaceURI === STANZAS_NS && (n as Element).localName !== 'text') {
      return `${error.getAttribute('type') ?? ''}/${(n as Element).localName}`
    }
  }
  return `${error.getAttribute('type') ?? ''}/?`
}

export const bare = (jid: string | null): string => (jid ?? '').split('/')[0] as string
export const resourceOf = (jid: string | null): string => (jid ?? '').split('/').slice(1).join('/')
