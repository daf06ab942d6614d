import { connect, type Socket } from 'node:net'

/** One HTTP/1.1 answer as it came over the wire: header order and case kept. */
export interface WireAnswer {
  statusLine: string
  headers: Array<[string, string]>
  body: string
}

export const headerOf = (a: WireAnswer, name: string): string | undefined =>
  a.headers.find(([n]) => n.toLowerCase() === name)?.[1]

/** The answer without what differs between any two answers (the clock). */
export const withoutDate = (a: WireAnswer): WireAnswer =>
  ({ ...a, headers: a.headers.filter(([n]) => n.toLowerCase() !== 'date') })

/**
 * A client that writes exact bytes on one connection and reads the answers
 * (each with a content-length) in order: for tests of what a server does
 * with pipelining, split heads, half-closed and dropped connections.
 */
export class WireClient {
  private buffer = Buffer.alloc(0)
  private readonly waiting: Array<{ resolve: (a: WireAnswer) => void, reject: (e: Error) => void }> = []
  readonly closed: Promise<void>

  private constructor (readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk])
      this.pump()
    })
    socket.on('error', () => {})
    this.closed = new Promise(resolve => socket.once('close', () => {
      for (const w of this.waiting.splice(0)) w.reject(new Error('connection closed before an answer'))
      resolve()
    }))
  }

  static async open (base: string): Promise<WireClient> {
    const url = new URL(base)
    const socket = connect(Number(url.port), url.hostname)
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
    socket.setNoDelay(true)
    return new WireClient(socket)
  }

  write (text: string): void { this.socket.write(text) }

  /** The next answer on the connection. */
  async answer (): Promise<WireAnswer> {
    return await new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject })
      this.pump()
    })
  }

  private pump (): void {
    while (this.waiting.length > 0) {
      const end = this.buffer.indexOf('\r\n\r\n')
      if (end < 0) return
      const lines = this.buffer.toString('latin1', 0, end).split('\r\n')
      const headers = lines.slice(1).map(l => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()] as [string, string])
      const length = Number(headers.find(([n]) => n.toLowerCase() === 'content-length')?.[1] ?? '0')
      if (this.buffer.length < end + 4 + length) return
      const body = this.buffer.toString('utf8', end + 4, end + 4 + length)
      this.buffer = this.buffer.subarray(end + 4 + length)
      this.waiting.shift()?.resolve({ statusLine: lines[0] as string, headers, body })
    }
  }
}

/** A GET request's bytes as a plain HTTP/1.1 client sends them. */
export function getRequest (path: string, headers: Record<string, string> = {}): string {
  const lines = [`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...Object.entries(headers).map(([n, v]) => `${n}: ${v}`)]
  return `${lines.join('\r\n')}\r\n\r\n`
}
