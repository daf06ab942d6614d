import t from 'tap'
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import type { Config } from '../../src/config.js'
import { createTestDatabase } from '../helpers/database.js'
import { testConfig } from '../helper.js'
import { roomKeys, StreamModel, type ModelEvent, type RoomKey } from './stream-model.js'

/*
 * Model-based test of the event stream. Random command sequences (joins,
 * invitations, leaves, sends, edits, deletions, read markers, polls with the
 * followed cursor or a stale one and a random limit, restarts of one node) run
 * against two real app instances on one database, polls alternating between
 * them; every poll answer must equal what the reference model computes.
 *
 * MODEL_RUNS (default 25) and MODEL_SEED (default fixed) choose the runs;
 * `npm run model` runs 2,000. A failure prints the shrunk command sequence.
 */

const runs = Number(process.env.MODEL_RUNS ?? 25)
const seed = Number(process.env.MODEL_SEED ?? 20261201)
/** Optional: stop starting new runs after this many ms (the runs done are reported). */
const timeLimitMs = process.env.MODEL_TIME_LIMIT_MS === undefined ? undefined : Number(process.env.MODEL_TIME_LIMIT_MS)
const userCount = 4
const host = 0

interface Node { app: FastifyInstance, url: string }

interface Real {
  nodes: Node[]
  configs: Config[]
  tokens: string[]
  usernames: string[]
  /** This run's room names and ids. */
  rooms: Record<RoomKey, { name: string, id: string }>
  /** Per user: which node their next poll goes to (they alternate). */
  pollRound: number[]
}

async function listen (app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no address')
  return `http://127.0.0.1:${address.port}`
}

async function call (url: string, path: string, token: string, method = 'GET', body?: unknown): Promise<{ status: number, body: any }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` }
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(url + path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  const text = await res.text()
  return { status: res.status, body: text === '' ? null : JSON.parse(text) }
}

function expectStatus (what: string, res: { status: number, body: unknown }, ...allowed: number[]): void {
  if (!allowed.includes(res.status)) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`)
}

/** The fields of a poll event the model knows, in the model's terms. */
function comparable (e: any, real: Real): Record<string, unknown> {
  const room = roomKeys.find(k => real.rooms[k].id === e.roomId) ?? `other room ${String(e.roomId)}`
  const userOf = (u: { id: string } | undefined): number | undefined => u === undefined ? undefined : real.usernames.indexOf((u as { username?: string }).username ?? '')
  return {
    id: Number(e.id),
    type: e.type,
    room,
    user: userOf(e.user),
    ...(e.text === undefined ? {} : { text: e.text }),
    ...(e.messageId === undefined ? {} : { messageId: Number(e.messageId) }),
    ...(e.eventId === undefined ? {} : { eventId: Number(e.eventId) }),
    ...(e.addedBy === undefined ? {} : { addedBy: userOf(e.addedBy) })
  }
}

/** The model's event in the same shape and key order as `comparable`. */
const fromModel = (e: ModelEvent): Record<string, unknown> => ({
  id: e.id,
  type: e.type,
  room: e.room,
  user: e.user,
  ...(e.text === undefined ? {} : { text: e.text }),
  ...(e.messageId === undefined ? {} : { messageId: e.messageId }),
  ...(e.eventId === undefined ? {} : { eventId: e.eventId }),
  ...(e.addedBy === undefined ? {} : { addedBy: e.addedBy })
})

type Cmd = fc.AsyncCommand<StreamModel, Real>

/** What the runs exercised, printed at the end (a test that compares nothing proves nothing). */
const stats = { commands: 0, polls: 0, eventsCompared: 0, staleOrBehind: 0, restarts: 0 }

class Send implements Cmd {
  constructor (readonly user: number, readonly room: RoomKey, readonly node: number) {}
  check (m: Readonly<StreamModel>): boolean { return m.isMember(this.user, this.room) }
  async run (m: StreamModel, r: Real): Promise<void> {
    const text = `m${m.head + 1}`
    const res = await call(r.nodes[this.node]!.url, `/api/rooms/${r.rooms[this.room].id}/messages`, r.tokens[this.user]!, 'POST', { text })
    expectStatus('send', res, 201)
    const e = m.append({ type: 'message', room: this.room, user: this.user, text })
    if (Number(res.body.event.id) !== e.id) throw new Error(`send: id ${String(res.body.event.id)}, model ${e.id}`)
  }

  toString (): string { return `Send(u${this.user}, ${this.room}, node${this.node})` }
}

class Join implements Cmd {
  constructor (readonly user: number) {}
  check (): boolean { return this.user !== host }
  async run (m: StreamModel, r: Real): Promise<void> {
    const res = await call(r.nodes[0]!.url, `/api/rooms/${r.rooms.pub.name}/join`, r.tokens[this.user]!, 'POST')
    expectStatus('join', res, 200)
    if (!m.isMember(this.user, 'pub')) m.append({ type: 'member.joined', room: 'pub', user: this.user })
  }

  toString (): string { return `Join(u${this.user}, pub)` }
}

class Invite implements Cmd {
  constructor (readonly actor: number, readonly user: number, readonly room: RoomKey) {}
  // Any member adds to the public channel; only the owner (the host) or a moderator to the private one.
  check (m: Readonly<StreamModel>): boolean { return m.isMember(this.actor, this.room) && this.actor !== this.user && (this.room === 'pub' || this.actor === host) }
  async run (m: StreamModel, r: Real): Promise<void> {
    const res = await call(r.nodes[1]!.url, `/api/rooms/${r.rooms[this.room].id}/members`, r.tokens[this.actor]!, 'POST', { username: r.usernames[this.user] })
    const already = m.isMember(this.user, this.room)
    expectStatus('invite', res, already ? 200 : 201)
    if (!already) m.append({ type: 'member.joined', room: this.room, user: this.user, addedBy: this.actor })
  }

  toString (): string { return `Invite(u${this.actor} adds u${this.user}, ${this.room})` }
}

class Leave implements Cmd {
  constructor (readonly user: number, readonly room: RoomKey) {}
  check (m: Readonly<StreamModel>): boolean { return this.user !== host && m.isMember(this.user, this.room) }
  async run (m: StreamModel, r: Real): Promise<void> {
    const res = await call(r.nodes[0]!.url, `/api/rooms/${r.rooms[this.room].id}/leave`, r.tokens[this.user]!, 'POST')
    expectStatus('leave', res, 200, 204)
    m.append({ type: 'member.left', room: this.room, user: this.user })
  }

  toString (): string { return `Leave(u${this.user}, ${this.room})` }
}

class Edit implements Cmd {
  constructor (readonly user: number, readonly pick: number) {}
  check (m: Readonly<StreamModel>): boolean { return m.liveMessagesOf(this.user).length > 0 }
  async run (m: StreamModel, r: Real): Promise<void> {
    const mine = m.liveMessagesOf(this.user)
    const target = mine[this.pick % mine.length]!
    const text = `edit${m.head + 1}`
    const res = await call(r.nodes[1]!.url, `/api/rooms/${r.rooms[target.room].id}/messages/${target.id}`, r.tokens[this.user]!, 'PATCH', { text })
    expectStatus('edit', res, 200)
    m.append({ type: 'message.edited', room: target.room, user: this.user, messageId: target.id, text })
  }

  toString (): string { return `Edit(u${this.user}, own message #${this.pick})` }
}

class Delete implements Cmd {
  constructor (readonly user: number, readonly pick: number) {}
  check (m: Readonly<StreamModel>): boolean { return m.liveMessagesOf(this.user).length > 0 }
  async run (m: StreamModel, r: Real): Promise<void> {
    const mine = m.liveMessagesOf(this.user)
    const target = mine[this.pick % mine.length]!
    const res = await call(r.nodes[0]!.url, `/api/rooms/${r.rooms[target.room].id}/messages/${target.id}`, r.tokens[this.user]!, 'DELETE')
    expectStatus('delete', res, 204)
    m.append({ type: 'message.deleted', room: target.room, user: this.user, messageId: target.id })
  }

  toString (): string { return `Delete(u${this.user}, own message #${this.pick})` }
}

class Read implements Cmd {
  constructor (readonly user: number, readonly room: RoomKey) {}
  check (m: Readonly<StreamModel>): boolean {
    return m.isMember(this.user, this.room) && m.head > (m.readMarkers.get(`${this.user}:${this.room}`) ?? 0)
  }

  async run (m: StreamModel, r: Real): Promise<void> {
    const eventId = m.head
    const res = await call(r.nodes[1]!.url, `/api/rooms/${r.rooms[this.room].id}/read`, r.tokens[this.user]!, 'POST', { eventId: String(eventId) })
    expectStatus('read', res, 200, 204)
    m.append({ type: 'read', room: this.room, user: this.user, eventId, target: this.user })
  }

  toString (): string { return `Read(u${this.user}, ${this.room})` }
}

/** A poll from the cursor the client follows (or a stale one), compared with the model. */
class Poll implements Cmd {
  constructor (readonly user: number, readonly limit: number, readonly staleBy: number | null) {}
  check (): boolean { return true }
  async run (m: StreamModel, r: Real): Promise<void> {
    const nodeIndex = (r.pollRound[this.user]!++) % r.nodes.length
    const node = r.nodes[nodeIndex]!
    // Polls answer from what their node has read: let it catch up with the model first.
    if (!await node.app.feed.waitForHead(m.head, 5000)) throw new Error(`node${nodeIndex} did not reach ${m.head}`)
    const followed = m.cursors[this.user]!
    const cursor = this.staleBy === null ? followed : Math.max(m.base, followed - this.staleBy)
    const res = await call(node.url, `/api/poll?cursor=${cursor}&timeout=0&limit=${this.limit}`, r.tokens[this.user]!)
    expectStatus('poll', res, 200)
    const expected = m.expectedPoll(this.user, cursor, this.limit)
    const got = { events: res.body.events.map((e: unknown) => comparable(e, r)), cursor: Number(res.body.cursor), hasMore: res.body.hasMore }
    const want = { events: expected.events.map(fromModel), cursor: expected.cursor, hasMore: expected.hasMore }
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      throw new Error(`poll of u${this.user} on node${nodeIndex} from ${cursor} (limit ${this.limit}):\n  got  ${JSON.stringify(got)}\n  want ${JSON.stringify(want)}`)
    }
    if (this.staleBy === null) m.cursors[this.user] = got.cursor
    stats.polls++
    stats.eventsCompared += got.events.length
    if (cursor + 1 < node.app.feed.oldestInWindow) stats.staleOrBehind++
  }

  toString (): string { return `Poll(u${this.user}, limit ${this.limit}${this.staleBy === null ? '' : `, ${this.staleBy} back`})` }
}

class Restart implements Cmd {
  /** Not again before a few more events: a restart costs far more than any other command. */
  check (m: Readonly<StreamModel>): boolean { return m.head >= m.restartedAt + 5 }
  async run (m: StreamModel, r: Real): Promise<void> {
    m.restartedAt = m.head
    const old = r.nodes[1]!
    await old.app.close()
    const app = await buildApp(r.configs[1]!)
    r.nodes[1] = { app, url: await listen(app) }
    stats.restarts++
  }

  toString (): string { return 'Restart(node1)' }
}

const user = fc.integer({ min: 0, max: userCount - 1 })
const room = fc.constantFrom<RoomKey>('pub', 'priv')
const commandArbs = [
  fc.tuple(user, room, fc.integer({ min: 0, max: 1 })).map(([u, r, n]) => new Send(u, r, n)),
  fc.tuple(user, room, fc.integer({ min: 0, max: 1 })).map(([u, r, n]) => new Send(u, r, n)),
  user.map(u => new Join(u)),
  fc.tuple(user, user, room).map(([a, u, r]) => new Invite(a, u, r)),
  fc.tuple(user, room).map(([u, r]) => new Leave(u, r)),
  fc.tuple(user, fc.nat(20)).map(([u, k]) => new Edit(u, k)),
  fc.tuple(user, fc.nat(20)).map(([u, k]) => new Delete(u, k)),
  fc.tuple(user, room).map(([u, r]) => new Read(u, r)),
  // Polls weigh most: every one compares an answer.
  fc.tuple(user, fc.integer({ min: 1, max: 6 })).map(([u, l]) => new Poll(u, l, null)),
  fc.tuple(user, fc.integer({ min: 1, max: 6 })).map(([u, l]) => new Poll(u, l, null)),
  fc.tuple(user, fc.integer({ min: 1, max: 100 })).map(([u, l]) => new Poll(u, l, null)),
  fc.tuple(user, fc.integer({ min: 1, max: 100 })).map(([u, l]) => new Poll(u, l, null)),
  fc.tuple(user, fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 40 })).map(([u, l, back]) => new Poll(u, l, back)),
  fc.constant(new Restart())
]

t.test('the stream matches the model: two nodes, alternating polls, restarts, stale cursors', async t => {
  const database = await createTestDatabase(t)
  // node1 keeps a tiny window (in bytes), so its polls often read from the database.
  const configs = [
    testConfig(database, { FEED_INTERVAL_MS: '20', MAX_ROOMS_PER_USER: '1000000' }),
    testConfig(database, { FEED_INTERVAL_MS: '20', MAX_ROOMS_PER_USER: '1000000', FEED_WINDOW_BYTES: '4096' })
  ]
  const nodes: Node[] = []
  for (const config of configs) {
    const app = await buildApp(config)
    nodes.push({ app, url: await listen(app) })
  }
  t.teardown(async () => { for (const n of nodes) await n.app.close() })

  const usernames: string[] = []
  const tokens: string[] = []
  for (let i = 0; i < userCount; i++) {
    const username = `model${i}`
    const res = await fetch(`${nodes[0]!.url}/api/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: 'password-for-tests' }) })
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] as string
    const token = await fetch(`${nodes[0]!.url}/api/tokens`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'model', password: 'password-for-tests' }) })
    usernames.push(username)
    tokens.push((await token.json()).token)
  }

  let run = 0
  const real: Omit<Real, 'rooms' | 'pollRound'> = { nodes, configs, tokens, usernames }
  const setup = async (): Promise<{ model: StreamModel, real: Real }> => {
    run++
    const rooms = {} as Real['rooms']
    for (const [key, visibility] of [['pub', 'public'], ['priv', 'private']] as const) {
      const name = `${key}-${run}`
      const res = await call(nodes[0]!.url, '/api/rooms', tokens[host]!, 'POST', { name, visibility })
      expectStatus('create room', res, 201)
      rooms[key] = { name, id: res.body.room.id }
    }
    const head = await call(nodes[0]!.url, '/api/poll', tokens[host]!)
    return { model: new StreamModel(userCount, host, Number(head.body.cursor)), real: { ...real, rooms, pollRound: Array(userCount).fill(run) } }
  }

  const started = Date.now()
  await fc.assert(
    fc.asyncProperty(fc.commands(commandArbs, { maxCommands: 60, size: 'large' }), async cmds => {
      await fc.asyncModelRun(setup, cmds)
      stats.commands += String(cmds).split('),').length
    }),
    { numRuns: runs, seed, ...(timeLimitMs === undefined ? {} : { interruptAfterTimeLimit: timeLimitMs, markInterruptAsFailure: false }) }
  )
  t.comment(`model: ${run} of ${runs} runs passed, seed ${seed}, ${((Date.now() - started) / 1000).toFixed(1)} s, ${JSON.stringify(stats)}`)
  t.ok(stats.eventsCompared > run, 'the polls compared events, not only empty answers')
})
