/**
 * Soak test: two server nodes on one fresh MariaDB database (one
 * SESSION_SECRET), mixed traffic for --minutes, and a strict ledger: every
 * accepted message and edit must reach every poller of every member exactly
 * once, each sender's messages in the order it sent them, and nothing may
 * reach a poller whose user is not in the room.
 *
 *   npm run soak                 10 minutes
 *   npm run soak -- --minutes 1  quick check
 *
 * Exit code 1 when anything was lost, duplicated, reordered or leaked.
 */
import { parseArgs } from 'node:util'
import { loadavg } from 'node:os'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Api, ContractError, createUser, describeExchange, sleep, type BenchUser, type Reply } from './lib/api.js'
import { runMain } from './lib/cleanup.js'
import { Histogram, fmt, fmtInt, table } from './lib/histogram.js'
import { rssBytes } from './lib/proc.js'
import { createDatabase, sessionSecret, startServer } from './lib/server.js'
import { churnLoop, driftCounters, expectedFor, readDriftEvents } from './lib/drift.js'

const { values: flags } = parseArgs({
  options: {
    minutes: { type: 'string' },
    users: { type: 'string' },
    rate: { type: 'string' },
    'pollers-per-user': { type: 'string' },
    help: { type: 'boolean', short: 'h' }
  }
})
const usage = 'usage: npm run soak -- [--minutes 10] [--users 12] [--rate 8 (messages/s over all users)] [--pollers-per-user 2]'

function num (raw: string | undefined, name: string, fallback: number, min: number): number {
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value < min) {
    console.error(`--${name} must be a number ≥ ${min}\n${usage}`)
    process.exit(2)
  }
  return value
}
const minutes = num(flags.minutes, 'minutes', 10, 0.1)
const userCount = Math.floor(num(flags.users, 'users', 12, 4))
const rate = num(flags.rate, 'rate', 8, 0.1)
const pollersPerUser = Math.floor(num(flags['pollers-per-user'], 'pollers-per-user', 2, 1))

// Lost means "accepted this long ago and still not at a member poller". It is
// longer than the longest time a poller spends offline on purpose (8 s) plus
// a held poll's timeout, so a slow but correct server is never called lossy.
const LOST_AFTER_MS = 30_000
const REPORT_EVERY_MS = 30_000

/** An accepted durable event that member pollers must receive exactly once. */
interface Rec {
  id: string
  roomId: string
  acceptedAt: number
  /** When the send or edit started: latency runs from here (polls are answered before the sender's 201). */
  startedAt: number
  /** 1 for each poller that must still receive it. */
  pending: Uint8Array
  /** How many pollers must receive it, and how many still have not. */
  expected: number
  remaining: number
}

/** What a sender knows about one of its messages: for edits and history checks. */
interface Sent {
  id: string
  roomId: string
  text: string
  /** When the server confirmed `text` (the original or the last edit). */
  textAt: number
}

interface Poller {
  idx: number
  user: number
  /** 0: always node A, 1: always node B, 2: alternate between polls. */
  mode: number
  cursor: string
  /** The starting cursor: what came before it is not this poller's to receive. */
  from: bigint
  seen: Set<string>
  /** Events of the churning room received (their expected set is read from the database at the end). */
  driftSeen: Set<string>
  lastSeq: Int32Array
  /**
   * False after a hang-up or an offline pause: the next answer's events waited
   * on the client, not the server, so they are checked but not timed.
   */
  timed: boolean
}

const counters = {
  sendsAccepted: 0,
  sendErrors: 0,
  edits: 0,
  editErrors: 0,
  retries: 0,
  idempotencyViolations: 0,
  historyReads: 0,
  historyErrors: 0,
  historyStale: 0,
  typing: 0,
  polls: 0,
  pollErrors: 0,
  aborts: 0,
  offline: 0,
  delivered: 0,
  duplicates: 0,
  outOfOrder: 0,
  leaked: 0,
  ephemeral: 0
}

// Unexpected answers, grouped by kind with the first one kept verbatim: that
// exchange is what goes into a bug report.
const anomalies = new Map<string, { count: number, example: string }>()
function anomaly (kind: string, example: string): void {
  const seen = anomalies.get(kind)
  if (seen !== undefined) seen.count++
  else anomalies.set(kind, { count: 1, example: example.slice(0, 600) })
}
const code = (reply: Reply): string => `${reply.status} ${String(reply.body?.error?.code ?? '')}`

const recs = new Map<string, Rec>()
const recOrder: Rec[] = []
// Deliveries that beat the sender's own 201: settled when the answer arrives.
const early = new Map<string, Array<{ poller: number, at: number, event: any }>>()
const overall = new Histogram()
let windowHist = new Histogram()

const rand = (n: number): number => Math.floor(Math.random() * n)
const pick = <T>(items: T[]): T => items[rand(items.length)] as T

async function main (): Promise<number> {
  if (flags.help === true) {
    console.log(usage)
    return 0
  }
  const db = await createDatabase('mariadb')
  const secret = sessionSecret()
  const env = {
    DATABASE_URL: db.url,
    DATA_DIR: db.dataDir,
    SESSION_SECRET: secret,
    RATE_LIMIT_DISABLED: 'true',
    MAX_HELD_POLLS: '2000',
    // Aborted polls may linger on the server for a moment while the same
    // user's next poll is already there.
    MAX_POLLS_PER_USER: String(pollersPerUser * 4),
    // Every poller is on this one machine: one address.
    MAX_POLLS_PER_ADDRESS: '0'
  }
  // Node A creates the schema first; B then finds it in place rather than
  // racing A through the migrations.
  const nodeA = await startServer('A', env)
  const dataDirB = join(db.dataDir, 'b')
  mkdirSync(dataDirB)
  const nodeB = await startServer('B', { ...env, DATA_DIR: dataDirB })
  const nodes = [nodeA, nodeB]
  console.log(`nodes A pid ${nodeA.pid} ${nodeA.origin}, B pid ${nodeB.pid} ${nodeB.origin}; database ${new URL(db.url ?? '').pathname.slice(1)}`)
  const pollerCount = userCount * pollersPerUser
  const apis = nodes.map(n => new Api(n.origin, userCount + 8))
  const pollPools = nodes.map(n => new Api(n.origin, pollerCount + 8))
  const api = (i: number): Api => apis[i % 2] as Api

  // --- setup: users, rooms, membership -------------------------------------
  const users: BenchUser[] = []
  for (let i = 0; i < userCount; i++) users.push(await createUser(api(i), `soak${i}`))
  nodeA.useStatsToken(users[0]?.token ?? '')
  nodeB.useStatsToken(users[0]?.token ?? '')
  const members = new Map<string, Set<number>>()
  const roomsOf: string[][] = users.map(() => [])
  const addMember = (roomId: string, u: number): void => {
    let set = members.get(roomId)
    if (set === undefined) members.set(roomId, (set = new Set()))
    set.add(u)
    ;(roomsOf[u] as string[]).push(roomId)
  }
  const tok = (u: number): string => (users[u] as BenchUser).token
  const createRoom = async (owner: number, name: string, visibility: string): Promise<string> => {
    const body = await api(owner + 1).expect(201, 'POST', '/api/rooms', { token: tok(owner), json: { name, visibility } })
    if (typeof body?.room?.id !== 'string') throw new ContractError(`POST /api/rooms answered no room id: ${JSON.stringify(body)}`)
    addMember(body.room.id, owner)
    return body.room.id
  }
  // general: everyone; team-even: public, joined by even users; team-odd:
  // private, members added by its owner; plus one direct room of users 0 and 1.
  const general = await createRoom(0, 'general', 'public')
  for (let u = 1; u < userCount; u++) {
    await api(u).expect(200, 'POST', `/api/rooms/${general}/join`, { token: tok(u) })
    addMember(general, u)
  }
  const even = await createRoom(2, 'team-even', 'public')
  for (let u = 0; u < userCount; u += 2) {
    if (u === 2) continue
    await api(u + 1).expect(200, 'POST', '/api/rooms/team-even/join', { token: tok(u) })
    addMember(even, u)
  }
  const odd = await createRoom(1, 'team-odd', 'private')
  for (let u = 3; u < userCount; u += 2) {
    await api(u).expect(201, 'POST', `/api/rooms/${odd}/members`, { token: tok(1), json: { username: (users[u] as BenchUser).username } })
    addMember(odd, u)
  }
  const direct = await api(1).expect([200, 201], 'POST', '/api/direct', { token: tok(0), json: { username: (users[1] as BenchUser).username } })
  if (typeof direct?.room?.id !== 'string') throw new ContractError(`POST /api/direct answered no room id: ${JSON.stringify(direct)}`)
  addMember(direct.room.id, 0)
  addMember(direct.room.id, 1)
  // drift: a public channel users keep joining and leaving (bench/lib/drift.ts); its owner, user 0, stays.
  const drift = await api(0).expect(201, 'POST', '/api/rooms', { token: tok(0), json: { name: 'drift', visibility: 'public' } })
  const driftId: string = drift.room.id
  const privateIsPrivate = await api(0).call('POST', `/api/rooms/${odd}/join`, { token: tok(0) })
  // Contract v2: a private room is not there for someone outside it.
  if (privateIsPrivate.status !== 404) anomaly('joining a private room without an invitation was not answered 404', `${describeExchange('POST', `/api/rooms/${odd}/join`, undefined, privateIsPrivate)}`)

  // --- pollers ---------------------------------------------------------------
  const pollers: Poller[] = []
  // Wall-clock time (same machine as the servers) before any starting head was
  // asked for: an event created before it belongs before every starting cursor.
  const firstHeadAt = Date.now()
  for (let j = 0; j < pollerCount; j++) {
    const user = j % userCount
    const start = await pollPools[j % 2]?.expect(200, 'GET', '/api/poll', { token: tok(user) })
    if (typeof start?.cursor !== 'string') throw new ContractError(`GET /api/poll without cursor answered ${JSON.stringify(start)}`)
    pollers.push({ idx: j, user, mode: j % 3, cursor: start.cursor, from: BigInt(start.cursor), seen: new Set(), driftSeen: new Set(), lastSeq: new Int32Array(userCount).fill(-1), timed: true })
  }
  const pollersOf = (roomId: string): number[] => {
    const set = members.get(roomId)
    return pollers.filter(p => set?.has(p.user) === true).map(p => p.idx)
  }
  const recipients = new Map([...members.keys()].map(roomId => [roomId, pollersOf(roomId)]))

  const settle = (rec: Rec, poller: number, at: number): void => {
    if (rec.pending[poller] !== 1) return
    rec.pending[poller] = 0
    rec.remaining--
    if (Number.isNaN(at)) return
    const latency = Math.max(0, at - rec.startedAt)
    overall.record(latency)
    windowHist.record(latency)
  }
  const accepted = (id: string, roomId: string, at: number, startedAt: number): void => {
    if (recs.has(id)) return
    const pending = new Uint8Array(pollerCount)
    const list = recipients.get(roomId) ?? []
    for (const j of list) pending[j] = 1
    const rec: Rec = { id, roomId, acceptedAt: at, startedAt, pending, expected: list.length, remaining: list.length }
    recs.set(id, rec)
    recOrder.push(rec)
    const before = early.get(id)
    if (before !== undefined) {
      early.delete(id)
      for (const r of before) settle(rec, r.poller, r.at)
    }
  }

  let stopping = false
  const running = (): boolean => !stopping
  const pollLoop = async (p: Poller): Promise<void> => {
    for (let n = 0; running(); n++) {
      const nodeIdx = p.mode === 2 ? (p.idx + n) % 2 : p.mode
      const timeout = pick([1, 5, 25, 25])
      const path = `/api/poll?cursor=${encodeURIComponent(p.cursor)}&timeout=${timeout}`
      const ac = new AbortController()
      // One poll in twenty hangs up mid-poll; the next one goes on from the
      // same cursor, so whatever the hung-up poll was answering must come again.
      const abortTimer = Math.random() < 0.05 ? setTimeout(() => ac.abort(), rand(Math.min(timeout, 3) * 1000)) : null
      let reply: Reply
      try {
        counters.polls++
        reply = await (pollPools[nodeIdx] as Api).call('GET', path, { token: tok(p.user), signal: ac.signal })
      } catch (err) {
        if (stopping) return
        p.timed = false
        if (ac.signal.aborted) counters.aborts++
        else {
          counters.pollErrors++
          anomaly(`GET /api/poll: ${(err as Error).message}`, `GET ${path} on ${nodeIdx === 0 ? 'A' : 'B'} failed: ${(err as Error).message}`)
          await sleep(500)
        }
        continue
      } finally {
        if (abortTimer !== null) clearTimeout(abortTimer)
      }
      // NaN: delivered, but not timed (see Poller.timed).
      const now = p.timed ? performance.now() : NaN
      p.timed = true
      if (reply.status !== 200) {
        counters.pollErrors++
        anomaly(`GET /api/poll → ${code(reply)}`, `GET ${path} on ${nodeIdx === 0 ? 'A' : 'B'} → ${reply.status} ${reply.text.slice(0, 300)}`)
        if (reply.status === 409 && typeof reply.body?.error?.cursor === 'string') p.cursor = reply.body.error.cursor
        else await sleep(1000)
        continue
      }
      for (const ev of reply.body.events as any[]) {
        if (ev.type === 'typing') {
          counters.ephemeral++
          continue
        }
        if (ev.roomId === driftId) {
          if (p.seen.has(ev.id)) counters.duplicates++
          else { p.seen.add(ev.id); p.driftSeen.add(ev.id) }
          continue
        }
        if (members.get(ev.roomId)?.has(p.user) !== true) {
          counters.leaked++
          anomaly('event delivered to a non-member', `poller of soak${p.user} received ${ev.type} ${ev.id} of room ${ev.roomId}, which it is not a member of`)
          continue
        }
        if (p.seen.has(ev.id)) {
          counters.duplicates++
          continue
        }
        p.seen.add(ev.id)
        if (ev.type === 'message' && typeof ev.clientId === 'string') {
          const m = /^s(\d+)-(\d+)$/.exec(ev.clientId)
          if (m !== null) {
            const sender = Number(m[1])
            const seq = Number(m[2])
            // Each sender does one thing at a time, so its messages must come in its order.
            if (seq <= (p.lastSeq[sender] ?? -1)) counters.outOfOrder++
            else p.lastSeq[sender] = seq
          }
        }
        counters.delivered++
        const rec = recs.get(ev.id)
        if (rec !== undefined) settle(rec, p.idx, now)
        else {
          let list = early.get(ev.id)
          if (list === undefined) early.set(ev.id, (list = []))
          list.push({ poller: p.idx, at: now, event: ev })
        }
      }
      if (typeof reply.body.cursor === 'string') p.cursor = reply.body.cursor
      // Now and then a client goes away between polls for a few seconds.
      if (Math.random() < 0.01) {
        counters.offline++
        p.timed = false
        await sleep(1000 + rand(7000))
      }
    }
  }

  // --- senders ---------------------------------------------------------------
  const sent: Sent[][] = users.map(() => [])
  const sendLoop = async (u: number, until: number): Promise<void> => {
    let seq = 0
    const meanGapMs = userCount * 1000 / rate
    while (performance.now() < until) {
      // Exponential gaps: bursts and lulls as real users make them.
      await sleep(Math.min(-Math.log(1 - Math.random()) * meanGapMs, meanGapMs * 5))
      if (performance.now() >= until) break
      const via = api(rand(2))
      const roll = Math.random()
      const mine = sent[u] as Sent[]
      if (roll < 0.08 && mine.length > 0) {
        // Edit one of my recent messages, half of them through the override
        // that proxies without PATCH need.
        const msg = pick(mine.slice(-20))
        const text = `edit of ${msg.id} by soak${u} #${seq++}`
        const override = Math.random() < 0.5
        const path = `/api/rooms/${msg.roomId}/messages/${msg.id}`
        const startedAt = performance.now()
        const reply = await via.call(override ? 'POST' : 'PATCH', path, {
          token: tok(u), json: { text }, headers: override ? { 'x-http-method-override': 'PATCH' } : {}
        })
        const at = performance.now()
        if (reply.status === 200 && typeof reply.body?.event?.id === 'string') {
          counters.edits++
          accepted(reply.body.event.id, msg.roomId, at, startedAt)
          msg.text = text
          msg.textAt = at
        } else {
          counters.editErrors++
          anomaly(`edit → ${code(reply)}`, describeExchange(override ? 'POST (override PATCH)' : 'PATCH', path, { text }, reply))
        }
      } else if (roll < 0.13) {
        const roomId = pick(roomsOf[u] as string[])
        const path = `/api/rooms/${roomId}/messages?limit=50`
        const started = performance.now()
        const reply = await via.call('GET', path, { token: tok(u) })
        counters.historyReads++
        if (reply.status !== 200 || !Array.isArray(reply.body?.events)) {
          counters.historyErrors++
          anomaly(`history → ${code(reply)}`, describeExchange('GET', path, undefined, reply))
          continue
        }
        // History shows each message's current text: an edit confirmed
        // before this read started must be there.
        for (const ev of reply.body.events) {
          const known = mine.find(m => m.id === ev.id)
          if (known !== undefined && known.textAt < started && ev.text !== known.text) {
            counters.historyStale++
            anomaly('history shows a message without its confirmed edit', `GET ${path} showed message ${ev.id} as ${JSON.stringify(ev.text)}, edited to ${JSON.stringify(known.text)} before the read`)
          }
        }
      } else if (roll < 0.15) {
        const roomId = pick(roomsOf[u] as string[])
        const reply = await via.call('POST', `/api/rooms/${roomId}/typing`, { token: tok(u) })
        if (reply.status === 204) counters.typing++
        else anomaly(`typing → ${code(reply)}`, describeExchange('POST', `/api/rooms/${roomId}/typing`, undefined, reply))
      } else {
        const roomId = pick(roomsOf[u] as string[])
        const clientId = `s${u}-${seq++}`
        const text = `soak message ${clientId}`
        const path = `/api/rooms/${roomId}/messages`
        // A send answered 503/429 or cut off is tried again with the same
        // clientId, as the contract's clients do; the answers are reported.
        let reply: Reply | null = null
        const startedAt = performance.now()
        for (let attempt = 1; attempt <= 5; attempt++) {
          try {
            reply = await via.call('POST', path, { token: tok(u), json: { text, clientId } })
          } catch (err) {
            reply = null
            anomaly(`send: ${(err as Error).message}`, `POST ${path} failed: ${(err as Error).message}`)
            await sleep(1000)
            continue
          }
          if (reply.status === 201 || (attempt > 1 && reply.status === 200)) break
          anomaly(`send → ${code(reply)}`, describeExchange('POST', path, { text, clientId }, reply))
          if (reply.status !== 503 && reply.status !== 429) break
          await sleep(Math.min(Number(reply.headers['retry-after']) || 1, 5) * 1000)
        }
        const at = performance.now()
        if (reply === null || (reply.status !== 201 && reply.status !== 200) || typeof reply.body?.event?.id !== 'string') {
          counters.sendErrors++
          continue
        }
        counters.sendsAccepted++
        const id: string = reply.body.event.id
        accepted(id, roomId, at, startedAt)
        mine.push({ id, roomId, text, textAt: at })
        if (mine.length > 200) mine.shift()
        if (Math.random() < 0.03) {
          // A client that lost the answer sends again with the same clientId,
          // through the other node: one event, answered 200.
          counters.retries++
          const again = await api(rand(2)).call('POST', path, { token: tok(u), json: { text, clientId } })
          if (again.status !== 200 || again.body?.event?.id !== id) {
            counters.idempotencyViolations++
            anomaly('same clientId again did not answer 200 with the first event', `${describeExchange('POST', path, { text, clientId }, again)} (first answer was 201 event ${id})`)
            if (typeof again.body?.event?.id === 'string') accepted(again.body.event.id, roomId, performance.now(), startedAt)
          }
        }
      }
    }
  }

  // --- run -------------------------------------------------------------------
  const t0 = performance.now()
  const until = t0 + minutes * 60_000
  const loops = pollers.map(pollLoop)
  const senders = users.map(async (_, u) => await sendLoop(u, until))
  const onDriftError = (what: string, status: number, text: string): void => anomaly(`${what} → ${status}`, text.slice(0, 300))
  const churners = users.slice(1).map(async (u, i) => await churnLoop(() => api(i), u, driftId, until, onDriftError))
  console.log(`${userCount} users, ${pollerCount} pollers, rooms: general, team-even (public), team-odd (private), one direct; ~${rate} msg/s for ${minutes} min\n`)

  /** Events accepted before `olderThan` that some member poller still lacks, and the missing deliveries. */
  const lostNow = (olderThan: number): { events: number, deliveries: number } => {
    let events = 0
    let deliveries = 0
    for (const rec of recOrder) {
      if (rec.acceptedAt > olderThan) break
      if (rec.remaining > 0) events++
      deliveries += rec.remaining
    }
    return { events, deliveries }
  }
  const header = ['elapsed', 'accepted', 'delivered', 'lost', 'dup', 'reorder', 'p99 ms (30 s)', 'RSS A MB', 'RSS B MB', 'polls', 'aborts', 'errors']
  const line = (label: string): string[] => [
    label,
    fmtInt(counters.sendsAccepted + counters.edits),
    fmtInt(counters.delivered),
    fmtInt(lostNow(performance.now() - LOST_AFTER_MS).events),
    fmtInt(counters.duplicates),
    fmtInt(counters.outOfOrder),
    fmt(windowHist.quantile(0.99)),
    fmt(rssBytes(nodeA.pid) / 2 ** 20),
    fmt(rssBytes(nodeB.pid) / 2 ** 20),
    fmtInt(counters.polls),
    fmtInt(counters.aborts),
    fmtInt(counters.pollErrors + counters.sendErrors + counters.editErrors + counters.historyErrors)
  ]
  const widths = header.map(h => Math.max(h.length, 9))
  const print = (cells: string[]): void => console.log(cells.map((c, i) => i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)).join(' '))
  print(header)
  const sendersDone = Promise.all([...senders, ...churners])
  let nextReport = t0 + REPORT_EVERY_MS
  while (performance.now() < until) {
    await sleep(Math.min(500, Math.max(0, until - performance.now())))
    for (const n of nodes) if (!n.alive) throw new Error(`node ${n.name} died:\n${n.output()}`)
    if (performance.now() >= nextReport) {
      print(line(`${fmt((performance.now() - t0) / 1000, 0)} s`))
      windowHist = new Histogram()
      nextReport += REPORT_EVERY_MS
    }
  }
  await sendersDone
  // Drain: pollers keep going until every accepted event is everywhere it
  // must be, or until the lost threshold has passed for the last of them.
  const sendEnd = performance.now()
  while (performance.now() - sendEnd < LOST_AFTER_MS + 5000) {
    if (recOrder.every(r => r.remaining === 0)) break
    await sleep(250)
  }
  print(line('drained'))
  const finalLost = lostNow(Infinity)
  // The churning room, judged by the order the database gave its joins, leaves and messages.
  const driftEvents = db.url === undefined ? [] : await readDriftEvents(db.url, driftId)
  const driftExpected = pollers.map(p => expectedFor(driftEvents, Number((users[p.user] as BenchUser).id), p.from))
  const driftMissing = (): number => pollers.reduce((n, p, j) => n + [...(driftExpected[j] as Set<string>)].filter(id => !p.driftSeen.has(id)).length, 0)
  for (const waitEnd = performance.now() + LOST_AFTER_MS; driftMissing() > 0 && performance.now() < waitEnd;) await sleep(250)
  const driftLost = driftMissing()
  const driftLeaked = pollers.reduce((n, p, j) => n + [...p.driftSeen].filter(id => !(driftExpected[j] as Set<string>).has(id)).length, 0)
  if (driftLeaked > 0) anomaly('drift: an event outside the poller\'s membership span was delivered', `${driftLeaked} deliveries`)
  stopping = true
  // The pollers still hold polls: hang them up (a poll whose client goes away
  // must be forgotten) and give the loops a moment to return.
  await Promise.all(pollPools.map(async p => await p.close()))
  await Promise.race([Promise.all(loops), sleep(2000)])
  const nodeStats = await Promise.all(nodes.map(async n => await n.stats()))
  await Promise.all(apis.map(async a => await a.close()))

  // --- summary ---------------------------------------------------------------
  const unexplained = early.size
  for (const [, receipts] of early) {
    const ev = receipts[0]?.event
    const before = Date.parse(ev?.createdAt) < firstHeadAt
    const kind = before
      ? `delivered a ${String(ev?.type)} event created before the starting head was asked for (GET /api/poll without cursor gave a stale head)`
      : `delivered an event no client of this soak caused: ${String(ev?.type)}`
    anomaly(kind, `${receipts.length} poller(s) got ${JSON.stringify(ev).slice(0, 400)}`)
  }
  const rows = [
    ['messages accepted', fmtInt(counters.sendsAccepted)],
    ['edits accepted', fmtInt(counters.edits)],
    ['same-clientId retries (idempotency violations)', `${fmtInt(counters.retries)} (${counters.idempotencyViolations})`],
    ['history reads (errors, stale edits)', `${fmtInt(counters.historyReads)} (${counters.historyErrors}, ${counters.historyStale})`],
    ['typing sent / received', `${fmtInt(counters.typing)} / ${fmtInt(counters.ephemeral)}`],
    ['expected deliveries', fmtInt(recOrder.reduce((n, r) => n + r.expected, 0))],
    ['delivered (unique)', fmtInt(counters.delivered)],
    ['lost events (missing deliveries)', `${fmtInt(finalLost.events)} (${fmtInt(finalLost.deliveries)})`],
    ['duplicated', fmtInt(counters.duplicates)],
    ['out of order (per sender)', fmtInt(counters.outOfOrder)],
    ['leaked to non-members', fmtInt(counters.leaked)],
    ['drift room: joins / leaves / messages (errors)', `${fmtInt(driftCounters.joins)} / ${fmtInt(driftCounters.leaves)} / ${fmtInt(driftCounters.sends)} (${driftCounters.errors})`],
    ['drift room: events / missing / outside the membership span', `${fmtInt(driftEvents.length)} / ${fmtInt(driftLost)} / ${fmtInt(driftLeaked)}`],
    ['events no client sent', fmtInt(unexplained)],
    ['latency p50 / p99 / max ms (timed answers)', `${fmt(overall.quantile(0.5))} / ${fmt(overall.quantile(0.99))} / ${fmt(overall.max)}`],
    ['polls / aborted mid-poll / offline pauses', `${fmtInt(counters.polls)} / ${fmtInt(counters.aborts)} / ${fmtInt(counters.offline)}`],
    ['errors: poll / send / edit', `${counters.pollErrors} / ${counters.sendErrors} / ${counters.editErrors}`],
    ['RSS A / B MB', `${fmt(rssBytes(nodeA.pid) / 2 ** 20)} / ${fmt(rssBytes(nodeB.pid) / 2 ** 20)}`],
    ['db queries A / B', nodeStats.map(s => fmtInt(s?.dbQueries ?? NaN)).join(' / ')],
    ['held polls after hang-up A / B', nodeStats.map(s => fmtInt(s?.heldPolls ?? NaN)).join(' / ')]
  ]
  console.log(`\nSummary after ${fmt((performance.now() - t0) / 60_000)} min\n${table(['', 'total'], rows)}`)
  // The machine is shared: other work on it shows up as latency here.
  console.log(`load average (1/5/15 min): ${loadavg().map(l => fmt(l, 2)).join(' / ')}`)
  if (anomalies.size > 0) {
    console.log('\nUnexpected answers from the servers (count × kind, then the first one verbatim):')
    for (const [kind, { count, example }] of anomalies) console.log(`  ${fmtInt(count)} × ${kind}\n      e.g. ${example}`)
  }
  await Promise.all(nodes.map(async n => await n.stop()))
  const bad = finalLost.deliveries + counters.duplicates + counters.outOfOrder + counters.leaked + counters.idempotencyViolations + driftLost + driftLeaked
  if (bad > 0 || counters.sendsAccepted === 0) {
    console.log('\nFAILED: the delivery guarantee was broken (see lost / duplicated / out of order / leaked above)')
    return 1
  }
  console.log('\nall accepted events reached every member poller exactly once, in order per sender')
  return 0
}

runMain(main)
