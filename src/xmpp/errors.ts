import { AppError } from '../http/errors.js'
import { stanzaError } from './stanzas.js'
import type { Element } from './xml.js'

type ErrorType = 'cancel' | 'modify' | 'auth' | 'wait'

// Our error codes as stanza error conditions (RFC 6120 §8.3.3).
const conditions: Partial<Record<string, [ErrorType, string]>> = {
  not_found: ['cancel', 'item-not-found'],
  not_member: ['auth', 'forbidden'],
  banned: ['auth', 'forbidden'],
  forbidden: ['auth', 'forbidden'],
  invalid: ['modify', 'bad-request'],
  rate_limited: ['wait', 'resource-constraint'],
  too_large: ['modify', 'not-acceptable'],
  unavailable: ['wait', 'service-unavailable']
}

/** The stanza error answering `stanza` for an error a service threw; other errors are rethrown. */
export function errorStanzaFor (stanza: Element, err: unknown): Element {
  if (!(err instanceof AppError)) throw err
  const [type, condition] = conditions[err.code] ?? ['wait', 'internal-server-error']
  return stanzaError(stanza, type, condition, err.message)
}
