import type { FastifyReply } from 'fastify'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { writePrebuiltJson } from '../http/prebuilt-json.js'
import type { RawExchange } from '../http/raw-front.js'
import { apiHeaderList } from '../http/security-headers.js'
import { answerBody } from './answers.js'
import { ClientDeparture, type PollAnswer, type PollSink } from './waiters.js'

/** The headers of every poll answer but its type, set in one call. */
const answerHeaders = {
  'cache-control': 'no-store',
  // Tells nginx not to buffer the answer (a held poll is not a slow download).
  'x-accel-buffering': 'no'
}

/**
 * Every header of a poll answer sent without Fastify, as one flat list for
 * writeHead, in the order Fastify's answer has them (the route's, the type,
 * then the security headers its onSend hook adds); content-length follows.
 */
export const rawAnswerHeaders: readonly string[] = [
  ...Object.entries(answerHeaders).flat(),
  'content-type', 'application/json; charset=utf-8',
  ...apiHeaderList.flat()
]

/** The status line and headers of a poll answer written straight to a socket (content-length and Node's own headers follow). */
export const socketAnswerHead = `HTTP/1.1 200 OK\r\n${rawAnswerHeaders.reduce((out, v, i) => out + (i % 2 === 0 ? `${v}: ` : `${v}\r\n`), '')}`

const pollOf = Symbol('poll reply')
type PollResponse = ServerResponse & { [pollOf]?: HeldPoll }

/** One listener function for every poll: the poll hangs on its response, not in a closure. */
function onResponseClose (this: PollResponse): void {
  if (!this.writableFinished) this[pollOf]?.leave()
}

/**
 * One poll's reply: where the engine delivers its one outcome, and how it
 * learns that the client left (its departure). The answer goes out as soon as
 * it is known, with no promise or suspended handler kept while the poll is
 * held: at 10,000 held polls each of those is memory.
 */
abstract class HeldPoll extends ClientDeparture implements PollSink {
  private done = false

  constructor (protected readonly res: PollResponse, socketGone: boolean) {
    super()
    res[pollOf] = this
    res.on('close', onResponseClose)
    // The client may have gone while credentials were read: 'close' has fired
    // already and would never reach the listener, leaving the poll held.
    if (socketGone) this.leave()
  }

  deliver (answer: PollAnswer): void {
    // An answer several polls share is encoded once.
    if (this.end()) this.write(answerBody(answer))
  }

  fail (err: unknown): void {
    if (this.end()) this.failed(err)
  }

  protected abstract write (body: Buffer): void
  protected abstract failed (err: unknown): void

  private end (): boolean {
    if (this.done) return false
    this.done = true
    this.res.removeListener('close', onResponseClose)
    this.res[pollOf] = undefined
    return true
  }
}

/** A poll that came through Fastify's route. */
export class PollReply extends HeldPoll {
  constructor (private readonly reply: FastifyReply) {
    super(reply.raw, reply.request.raw.socket.destroyed)
  }

  protected write (body: Buffer): void {
    writePrebuiltJson(this.reply.headers(answerHeaders), body)
  }

  /** Through the one error handler, like any route's error. */
  protected failed (err: unknown): void {
    this.reply.send(err)
  }
}

/**
 * A poll taken by the fast lane (fast-lane.ts), without Fastify: the answer is
 * written directly, with the headers Fastify's would have. A failure is handed
 * to Fastify untouched (nothing was written): its route runs the poll again
 * and answers the error through the one error handler.
 */
export class RawPollReply extends HeldPoll {
  constructor (
    private readonly req: IncomingMessage,
    res: ServerResponse,
    private readonly handOver: (req: IncomingMessage, res: ServerResponse) => void
  ) {
    super(res, req.socket.destroyed)
  }

  protected write (body: Buffer): void {
    this.res.writeHead(200, [...rawAnswerHeaders, 'content-length', String(body.length)])
    this.res.end(body)
  }

  protected failed (): void {
    this.handOver(this.req, this.res)
  }
}

/**
 * A poll the raw front read off its socket (src/http/raw-front.ts): the
 * answer's bytes go straight to the socket, and an answer many polls share
 * is made into bytes once. A failure hands the request to Node's server and
 * Fastify's route, which run the poll again and answer the error.
 */
export class SocketPollReply extends ClientDeparture implements PollSink {
  private done = false

  constructor (private readonly exchange: RawExchange) {
    super()
    exchange.departure = this
  }

  deliver (answer: PollAnswer): void {
    if (this.done) return
    this.done = true
    this.exchange.send(socketAnswerHead, answerBody(answer), answer)
  }

  fail (): void {
    if (this.done) return
    this.done = true
    this.exchange.handOver()
  }
}
