import { el, type Element } from './xml.js'
import { NS } from './namespaces.js'

/** A `<body/>` wrapper around the stanzas of one BOSH answer. */
export function boshBody (attrs: Record<string, string | number | undefined>, children: Element[] = []): Element {
  return el('body', { xmlns: NS.httpbind, 'xmlns:stream': NS.stream, ...attrs }, ...children)
}

/** The answer that ends a BOSH session, with its XEP-0124 condition. */
export function terminateBody (condition?: string): string {
  return boshBody({ type: 'terminate', condition }).toString()
}

/** What the stream offers before sign-in (SASL PLAIN) and after it (bind, session). */
export function streamFeatures (authenticated: boolean): Element {
  if (!authenticated) {
    return el('stream:features', {}, el('mechanisms', { xmlns: NS.sasl }, el('mechanism', {}, 'PLAIN')))
  }
  return el('stream:features', {},
    el('bind', { xmlns: NS.bind }),
    el('session', { xmlns: NS.session }, el('optional')))
}

/** A stanza error (RFC 6120 §8.3) answering `stanza`, from the entity it was addressed to. */
export function stanzaError (stanza: Element, type: 'cancel' | 'modify' | 'auth' | 'wait', condition: string, text?: string): Element {
  const to = stanza.attrs.from
  const from = stanza.attrs.to
  const error = el('error', { type }, el(condition, { xmlns: NS.stanzas }), text === undefined ? undefined : el('text', { xmlns: NS.stanzas }, text))
  return el(stanza.name, { xmlns: NS.client, type: 'error', id: stanza.attrs.id, to, from }, error)
}

/** An `iq type='result'` for `iq`, optionally with a payload. */
export function iqResult (iq: Element, payload?: Element): Element {
  return el('iq', { xmlns: NS.client, type: 'result', id: iq.attrs.id, to: iq.attrs.from, from: iq.attrs.to }, payload)
}

/** The only child element of a stanza's payload, if any (an iq carries exactly one). */
export function firstChild (stanza: Element): Element | undefined {
  return stanza.getChildElements()[0]
}
