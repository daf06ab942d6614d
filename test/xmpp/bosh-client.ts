import { Element, parse } from 'ltx'

export const HTTPBIND = 'http://jabber.org/protocol/httpbind'

/** A bare BOSH client for tests: raw XML bodies over HTTP, answers parsed with ltx. */
export class BoshClient {
  sid = ''
  rid = 4000

  constructor (readonly url: string, readonly domain: string) {}

  /** Posts a raw text body; the status and the text of the answer. */
  static async raw (url: string, text: string): Promise<{ status: number, text: string, type: string | null }> {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8' }, body: text })
    return { status: res.status, text: await res.text(), type: res.headers.get('content-type') }
  }

  async post (inner: string, attrs = '', rid = ++this.rid): Promise<Element> {
    const res = await BoshClient.raw(this.url, `<body xmlns='${HTTPBIND}' sid='${this.sid}' rid='${rid}' ${attrs}>${inner}</body>`)
    if (res.status !== 200) throw new Error(`BOSH answered ${res.status}: ${res.text}`)
    return parse(res.text) as Element
  }

  async postText (inner: string, rid: number): Promise<string> {
    return (await BoshClient.raw(this.url, `<body xmlns='${HTTPBIND}' sid='${this.sid}' rid='${rid}'>${inner}</body>`)).text
  }

  async create (wait = 5, extra = "hold='1'"): Promise<Element> {
    const res = await BoshClient.raw(this.url, `<body xmlns='${HTTPBIND}' rid='${this.rid}' to='${this.domain}' wait='${wait}' ${extra} ver='1.6' xml:lang='en' xmpp:version='1.0' xmlns:xmpp='urn:xmpp:xbosh'/>`)
    const body = parse(res.text) as Element
    this.sid = body.attrs.sid ?? ''
    return body
  }

  /** Signs in with SASL PLAIN, restarts the stream and binds a resource; the full JID. */
  async signIn (username: string, password: string): Promise<string> {
    const plain = Buffer.from(`\u0000${username}\u0000${password}`).toString('base64')
    const auth = await this.post(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain}</auth>`)
    if (auth.getChild('success') === undefined) throw new Error(`sign-in failed: ${auth.toString()}`)
    await this.post('', `xmpp:restart='true' xmlns:xmpp='urn:xmpp:xbosh' to='${this.domain}'`)
    const bound = await this.post("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>test</resource></bind></iq>")
    return bound.getChild('iq')?.getChild('bind')?.getChildText('jid') ?? ''
  }

  /** Empty requests until one brings stanzas (each is held until something arrives or `wait` passes). */
  async next (tries = 5): Promise<Element[]> {
    for (let i = 0; i < tries; i++) {
      const body = await this.post('')
      if (body.getChildElements().length > 0 || body.attrs.type === 'terminate') return body.getChildElements()
    }
    return []
  }
}

export { Element, parse }
