/**
 * The floor under `npm run bench`'s poll cycle: what answering a held request
 * costs a Node process that does nothing else, measured in the pattern of
 * scenario (b) on this machine, now. N keep-alive connections each hold one
 * request; ten times a second the server answers every held request with a
 * poll answer's headers (the same list) and a 300-byte JSON body, and each client asks
 * again at once. It prints the server's CPU per request answered, two ways:
 *
 *   node:http   Node's HTTP server, writeHead + end (what a plain Node app pays)
 *   net         Node's sockets with the request head found by hand and the
 *               answer's bytes made once (what the raw front pays at least)
 *
 *   npm run bench:floor                      1,000 connections, 20 s each way
 *   npm run bench:floor -- --connections 1000 --seconds 20
 *
 * Compare the figures with the poll cycle of `npm run bench` (b), run on the
 * same machine in the same hour: machines differ by more than the gap.
 */
import { fork } from 'node:child_process'
import { pathToFileURL } from 'node:url'
import { createServer as createHttpServer, type ServerResponse } from 'node:http'
import { createServer as createNetServer, type Socket } from 'node:net'
import { parseArgs } from 'node:util'
import { Pool } from 'undici'
import { rawAnswerHeaders, socketAnswerHead } from '../src/poll/poll-reply.js'
import { cpuMicros, selfCpuMicros } from './lib/proc.js'

const body = Buffer.from(JSON.stringify({ events: [{ id: '1', type: 'message', text: 'x'.repeat(220) }], cursor: '1', hasMore: false }))
/** The child: one server of the kind asked, answering every held request ten times a second. */
function serve (kind: string): void {
  // The headers of a poll answer (src/poll/poll-reply.ts), so the floor answers what a poll answers.
  const flat = [...rawAnswerHeaders, 'content-length', String(body.length)]
  let heldHttp: ServerResponse[] = []
  let heldNet: Socket[] = []
  const wire = Buffer.concat([Buffer.from(`${socketAnswerHead}content-length: ${body.length}\r\nDate: ${new Date().toUTCString()}\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n\r\n`, 'latin1'), body])
  setInterval(() => {
    const http = heldHttp
    heldHttp = []
    for (const res of http) { res.writeHead(200, flat); res.end(body) }
    const net = heldNet
    heldNet = []
    for (const socket of net) socket.write(wire)
  }, 100)
  const server = kind === 'http'
    ? createHttpServer({ keepAliveTimeout: 65000 }, (_req, res) => { heldHttp.push(res) })
    : createNetServer({ noDelay: true }, socket => {
      socket.on('data', (chunk: Buffer) => { if (chunk.indexOf('\r\n\r\n') >= 0) heldNet.push(socket) })
      socket.on('error', () => {})
    })
  server.listen(0, '127.0.0.1', () => {
    const address = server.address()
    process.send?.({ port: typeof address === 'object' && address !== null ? address.port : 0 })
  })
}

/** The server's CPU per request answered by a bare server of this kind (`npm run bench` compares its poll cycle with it). */
export async function measureFloor (kind: 'http' | 'net', connections: number, seconds: number): Promise<{ micros: number, answers: number }> {
  const child = fork(new URL(import.meta.url), ['--serve', kind], { execArgv: ['--import', 'tsx'], stdio: 'inherit' })
  const port = await new Promise<number>(resolve => child.once('message', (m: { port: number }) => { resolve(m.port) }))
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections, pipelining: 1, keepAliveTimeout: 120_000 })
  let answers = 0
  const state = { running: true }
  const loop = async (): Promise<void> => {
    while (state.running) {
      const res = await pool.request({ path: '/api/poll?cursor=1', method: 'GET', headers: { authorization: 'Bearer lpc_floor' } })
      await res.body.arrayBuffer()
      answers++
    }
  }
  const loops = Array.from({ length: connections }, loop)
  await new Promise(resolve => setTimeout(resolve, 3000))
  const [cpu0, answers0] = [cpuMicros(child.pid as number), answers]
  await new Promise(resolve => setTimeout(resolve, seconds * 1000))
  const [cpu1, answers1] = [cpuMicros(child.pid as number), answers]
  state.running = false
  child.kill()
  await Promise.allSettled(loops)
  await pool.destroy()
  return { micros: (cpu1 - cpu0) / (answers1 - answers0), answers: answers1 - answers0 }
}

async function main (): Promise<void> {
  const { values: flags } = parseArgs({
    options: {
      connections: { type: 'string', default: '1000' },
      seconds: { type: 'string', default: '20' },
      serve: { type: 'string' }
    }
  })
  if (flags.serve !== undefined) {
    serve(flags.serve)
    return
  }
  const connections = Number(flags.connections)
  const seconds = Number(flags.seconds)
  console.log(`${connections} held connections, answered 10 times a second, ${seconds} s each (load generator in this process)`)
  const started = selfCpuMicros()
  for (const [kind, label] of [['http', 'node:http (writeHead + end)'], ['net', 'net (prebuilt bytes)']] as const) {
    const { micros, answers } = await measureFloor(kind, connections, seconds)
    console.log(`${label.padEnd(30)} ${micros.toFixed(1).padStart(6)} µs of server CPU per request answered (${answers.toLocaleString('en')} answers)`)
  }
  console.log(`load generator CPU: ${((selfCpuMicros() - started) / 1e6).toFixed(1)} s`)
}

// Run as a script (or as the forked server); imported by the poll benchmark, it only lends measureFloor.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main()
