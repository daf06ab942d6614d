import http from 'node:http'

/**
 * The part of the global that Phusion Passenger's Node.js loader defines
 * before it `require()`s the startup file (an EventEmitter with configure()).
 */
interface PhusionPassengerGlobal {
  configure: (options: { autoInstall: boolean }) => void
  on?: (event: 'exit', listener: () => void) => unknown
}

type Listen = (this: http.Server, ...args: unknown[]) => http.Server

/**
 * Where the server must listen when Phusion Passenger (cPanel's and Plesk's
 * Node.js support) runs it, or null when it does not.
 *
 * Passenger's loader patches `http.Server.prototype.listen` and by default hands
 * the first server that listens to Passenger. We switch that off and name the
 * server ourselves by listening on `'passenger'`, which Passenger maps to a unix
 * socket of its choosing. Pass the result to `fastify.listen()`.
 */
export function passengerListenTarget (): { path: string } | null {
  const passenger = (globalThis as { PhusionPassenger?: PhusionPassengerGlobal }).PhusionPassenger
  if (passenger === undefined) return null
  passenger.configure({ autoInstall: false })
  acceptListenOptionsObject()
  forwardShutdownAsSigterm(passenger)
  return { path: 'passenger' }
}

/**
 * Passenger only recognises the string form, `listen('passenger')`, but Fastify
 * always calls `server.listen({ path: 'passenger', ... })`. Passed through, the
 * object form makes Node create a socket file named `passenger` in the app
 * folder that Passenger never connects to, and the second process fails with
 * EADDRINUSE (fastify/fastify#4278, #5407). So the object form is translated.
 */
function acceptListenOptionsObject (): void {
  const proto = http.Server.prototype as unknown as { listen: Listen }
  const passengerListen = proto.listen
  proto.listen = function listen (this: http.Server, ...args: unknown[]): http.Server {
    const [first, ...rest] = args
    if (typeof first === 'object' && first !== null && (first as { path?: unknown }).path === 'passenger') {
      return passengerListen.call(this, 'passenger', ...rest)
    }
    return passengerListen.apply(this, args)
  }
}

/**
 * Passenger stops an idle or replaced process by closing its stdin; without an
 * `exit` listener its loader then calls process.exit(0) at once, cutting held
 * polls and open database connections. Turning that into SIGTERM runs the same
 * graceful shutdown as any other stop.
 */
function forwardShutdownAsSigterm (passenger: PhusionPassengerGlobal): void {
  if (typeof passenger.on !== 'function') return
  passenger.on('exit', () => { process.kill(process.pid, 'SIGTERM') })
}
