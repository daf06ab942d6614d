/** Where an answer that many connections send keeps its bytes (valid for the second its Date names). */
export interface WireCache { wire?: Buffer, wireDate?: string }

let dateSecond = -1
let dateText = ''

/** The Date header's value, made once a second as Node's server does. */
function httpDate (): string {
  const second = Math.floor(Date.now() / 1000)
  if (second !== dateSecond) {
    dateSecond = second
    dateText = new Date(second * 1000).toUTCString()
  }
  return dateText
}

/**
 * A whole answer's bytes: `head` (status line and the answer's own headers),
 * then the headers Node's server adds, in its order and spelling
 * (content-length, Date, Connection and Keep-Alive), then the body.
 * `keepAliveLines` null: the connection closes after it. An answer sent to many
 * connections in the same second is made once, into `cache`.
 */
export function wireAnswer (head: string, body: Buffer, keepAliveLines: string | null, cache?: WireCache): Buffer {
  const date = httpDate()
  if (keepAliveLines !== null && cache?.wireDate === date && cache.wire !== undefined) return cache.wire
  const tail = keepAliveLines ?? 'Connection: close\r\n'
  const wire = Buffer.concat([Buffer.from(`${head}content-length: ${body.length}\r\nDate: ${date}\r\n${tail}\r\n`, 'latin1'), body])
  if (keepAliveLines !== null && cache !== undefined) {
    cache.wire = wire
    cache.wireDate = date
  }
  return wire
}
