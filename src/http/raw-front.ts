import type { Server } from 'node:http'
import type { Socket } from 'node:net'
import { maxHeadBytes, parseRequestHead, type RequestHead } from './request-head.js'
import { wireAnswer, type WireCache } from './wire-answer.js'

/**
 * One request a lane took off a raw connection: it ends with exactly one
 * `send` (the answer) or `handOver` (nothing written; Node's server and
 * Fastify take the connection from this request on, and answer it).
 */
export interface RawExchange {
  readonly remoteAddress: string | undefined
  /** Told once if the client goes away before the answer. */
  departure: { leave: () => void } | null
  send: (head: string, body: Buffer, cache?: WireCache) => void
  handOver: () => void
}

/** Takes a request read off a raw connection (true: taken, and the exchange will be ended), or leaves it to Node's server. */
export type RawLane = (head: RequestHead, exchange: RawExchange) => boolean

const connectionOf = Symbol('raw connection')
type RawSocket = Socket & { [connectionOf]?: RawConnection }

// One set of listener functions for every connection: the connection hangs on its socket.
function onData (this: RawSocket, chunk: Buffer): void { this[connectionOf]?.receive(chunk) }
function onEnd (this: RawSocket): void { this[connectionOf]?.clientEnded() }
function onClose (this: RawSocket): void { this[connectionOf]?.closed() }
function onTimeout (this: RawSocket): void { this[connectionOf]?.timedOut() }
function onError (this: RawSocket): void { this.destroy() }
function onDrain (this: RawSocket): void { this.resume() }
const socketListeners = { data: onData, end: onEnd, close: onClose, timeout: onTimeout, error: onError, drain: onDrain } as const

/**
 * A keep-alive connection whose requests the front reads itself, one at a
 * time. The first request the lane does not take, and everything after it,
 * goes to Node's server, which then keeps the connection.
 */
class RawConnection implements RawExchange {
  departure: { leave: () => void } | null = null
  /** A request is with the lane. */
  private busy = false
  /** Bytes received and not yet read as a request (pipelined, or arriving while busy). */
  private pending: Buffer | null = null
  /** The request with the lane, kept until answered: a hand-over gives Node these bytes. */
  private taken: Buffer | null = null
  private answered = false
  private ended = false

  constructor (private readonly socket: RawSocket, private readonly front: RawFront) {
    socket[connectionOf] = this
    for (const [event, listener] of Object.entries(socketListeners)) socket.on(event, listener)
    socket.setTimeout(front.headersTimeoutMs)
  }

  get remoteAddress (): string | undefined { return this.socket.remoteAddress }
  get idle (): boolean { return !this.busy }

  receive (chunk: Buffer): void {
    this.pending = this.pending === null ? chunk : Buffer.concat([this.pending, chunk])
    if (!this.busy) this.next()
    // Nobody pipelines behind a held poll; a client sending on regardless is cut off.
    else if (this.pending.length > maxHeadBytes * 4) this.socket.destroy()
  }

  private next (): void {
    const bytes = this.pending
    if (bytes === null) return
    const end = bytes.indexOf('\r\n\r\n')
    // A head split over packets, or not a plain one: Node's parser reads and times it.
    const head = end < 0 ? null : parseRequestHead(bytes.toString('latin1', 0, end))
    if (head === null) {
      this.toNode()
      return
    }
    this.taken = bytes.subarray(0, end + 4)
    this.pending = end + 4 === bytes.length ? null : bytes.subarray(end + 4)
    this.busy = true
    let taken = false
    try {
      taken = this.front.lane(head, this)
    } catch {
      // A lane that throws leaves the request to Node and Fastify, whose route
      // runs it again and answers (and logs) whatever went wrong.
    }
    if (!taken) this.handOver()
  }

  send (head: string, body: Buffer, cache?: WireCache): void {
    if (!this.busy) return
    this.busy = false
    this.departure = null
    this.taken = null
    const keepAlive = !this.front.closing && !this.ended
    const wire = wireAnswer(head, body, keepAlive ? this.front.keepAliveLines : null, cache)
    // The client left while the answer was made (its departure settles the poll).
    if (this.socket.destroyed) return
    // A client that sends without reading its answers is not read until it does ('drain' resumes).
    if (!this.socket.write(wire)) this.socket.pause()
    if (!keepAlive) {
      this.socket.end()
      return
    }
    if (!this.answered) {
      this.answered = true
      this.socket.setTimeout(this.front.keepAliveTimeoutMs)
    }
    this.next()
  }

  handOver (): void {
    if (!this.busy) return
    this.busy = false
    this.departure = null
    const taken = this.taken as Buffer
    this.taken = null
    this.pending = this.pending === null ? taken : Buffer.concat([taken, this.pending])
    this.toNode()
  }

  /** Gives the connection, with every byte not yet answered, to Node's server. */
  private toNode (): void {
    const socket = this.socket
    this.front.forget(this)
    if (socket.destroyed || this.ended) {
      socket.destroy()
      return
    }
    const pending = this.pending
    this.pending = null
    socket.pause()
    this.front.toNode(socket)
    if (pending !== null) socket.emit('data', pending)
    socket.resume()
  }

  /** As Node's server does: a client that ends its side abandons a request in progress. */
  clientEnded (): void {
    this.ended = true
    this.departure?.leave()
    if (!this.busy) this.socket.end()
  }

  closed (): void {
    this.front.forget(this)
    this.departure?.leave()
  }

  timedOut (): void {
    // A held poll ends within POLL_MAX_TIMEOUT; its answer restarts the clock.
    if (!this.busy) this.socket.destroy()
  }

  detach (): void {
    const socket = this.socket
    socket[connectionOf] = undefined
    for (const [event, listener] of Object.entries(socketListeners)) socket.removeListener(event, listener)
    socket.setTimeout(0)
  }

  destroy (): void { this.socket.destroy() }
}

export interface RawFrontOptions {
  headersTimeoutMs: number
  keepAliveTimeoutMs: number
}

/**
 * Reads requests straight off the HTTP server's connections and gives the
 * plain ones to a lane (the poll route's, src/poll/fast-lane.ts), which
 * answers without Node's request and response objects: at thousands of polls
 * a second those, not the application, are most of the cost. Every request the
 * lane does not take is handed to Node's server with its bytes untouched, and
 * that connection stays with Node; so Node and Fastify still judge every
 * unusual request, exactly as before.
 */
export class RawFront {
  closing = false
  readonly headersTimeoutMs: number
  readonly keepAliveTimeoutMs: number
  readonly keepAliveLines: string
  private readonly connections = new Set<RawConnection>()

  constructor (
    private readonly server: Server,
    private readonly nodeListener: (socket: Socket) => void,
    private readonly laneOf: () => RawLane | undefined,
    options: RawFrontOptions
  ) {
    this.headersTimeoutMs = options.headersTimeoutMs
    this.keepAliveTimeoutMs = options.keepAliveTimeoutMs
    this.keepAliveLines = `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(options.keepAliveTimeoutMs / 1000)}\r\n`
  }

  get size (): number { return this.connections.size }

  lane (head: RequestHead, exchange: RawExchange): boolean {
    const lane = this.laneOf()
    return lane !== undefined && !this.closing && lane(head, exchange)
  }

  accept (socket: Socket): void {
    if (this.laneOf() === undefined || this.closing) this.toNode(socket)
    else this.connections.add(new RawConnection(socket, this))
  }

  toNode (socket: Socket): void { this.nodeListener.call(this.server, socket) }

  forget (connection: RawConnection): void {
    if (this.connections.delete(connection)) connection.detach()
  }

  /** As Node's closeIdleConnections: from now on every answer closes its connection. */
  closeIdle (): void {
    this.closing = true
    for (const c of this.connections) if (c.idle) c.destroy()
  }

  closeAll (): void {
    this.closing = true
    for (const c of this.connections) c.destroy()
  }
}
