/**
 * The head of a request read straight off a socket (raw-front.ts), for the
 * one kind of request that front takes itself: `GET` over HTTP/1.1, kept
 * alive, with no body. Only the headers that kind of request needs are kept.
 */
export interface RequestHead {
  /** The request target as sent (origin form: starts with `/`). */
  url: string
  authorization: string | undefined
  cookie: string | undefined
  forwardedFor: string | undefined
}

/** Node's own limit on a request's head (its default `maxHeaderSize`). */
export const maxHeadBytes = 16384

// Printable ASCII, tab and the line breaks; Node's parser judges anything else.
const unusualByte = /[^\t\x20-\x7e\r\n]/
const requestLine = /^GET (\/[!-~]*) HTTP\/1\.1$/
const tokenName = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/**
 * The head's fields, or null when anything about it is not plain: another
 * method or version, a body, an upgrade, `Connection: close`, a repeated
 * header the route reads, no Host, folded or odd lines. Null never means the
 * request is bad, only that Node's parser and Fastify should judge it: every
 * request this does not take is handed to them byte for byte.
 * `text` is the head in latin1, without its closing blank line.
 */
export function parseRequestHead (text: string): RequestHead | null {
  if (text.length > maxHeadBytes || unusualByte.test(text)) return null
  const lines = text.split('\r\n')
  const first = requestLine.exec(lines[0] ?? '')
  if (first === null) return null
  const head: RequestHead = { url: first[1] as string, authorization: undefined, cookie: undefined, forwardedFor: undefined }
  let hosts = 0
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':')
    // A bare CR or LF inside a line, an empty name, or a fold: not plain.
    if (colon <= 0 || line.includes('\r') || line.includes('\n')) return null
    const name = line.slice(0, colon)
    if (!tokenName.test(name)) return null
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '')
    switch (name.toLowerCase()) {
      case 'host': hosts++; break
      case 'authorization':
        if (head.authorization !== undefined) return null
        head.authorization = value
        break
      case 'cookie':
        if (head.cookie !== undefined) return null
        head.cookie = value
        break
      case 'x-forwarded-for':
        if (head.forwardedFor !== undefined) return null
        head.forwardedFor = value
        break
      case 'connection':
        if (value.toLowerCase() !== 'keep-alive') return null
        break
      case 'content-length': case 'transfer-encoding': case 'expect': case 'upgrade':
        return null
    }
  }
  return hosts === 1 ? head : null
}
