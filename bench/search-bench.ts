/**
 * Search at scale: loads MESSAGES messages (default 1,000,000) into a fresh
 * database, applies the search migration to them (timed: that is what an
 * upgrade costs), then runs the queries a user in 20 of 100 rooms would type
 * and prints p50/p95 per kind of query. Usage:
 *   npm run bench:search -- [--sqlite] [--messages 1000000] [--rounds 20] [--keep NAME]
 * MariaDB at BENCH_DATABASE_URL (default mysql://root@127.0.0.1:3306); the
 * database (or SQLite folder) is dropped at the end. With --keep NAME it is
 * kept instead (database search_bench_NAME, folder $TMPDIR/search-bench-NAME)
 * and reused by the next run with the same NAME: loading a million rows takes
 * minutes, and a run that reuses them only applies migrations added since.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { sql } from 'kysely'
import mysql from 'mysql2/promise'
import { loadConfig } from '../src/config.js'
import { connectDatabase, type DatabaseHandle } from '../src/db/connect.js'
import { loadMigrations, migrate } from '../src/db/migrate.js'
import { RoomAccess } from '../src/rooms/access.js'
import { SearchService } from '../src/search/service.js'
import type { AuthUser } from '../src/auth/service.js'
import { onCleanup, runMain } from './lib/cleanup.js'
import { Histogram } from './lib/histogram.js'

const { values: args } = parseArgs({
  options: {
    sqlite: { type: 'boolean', default: false },
    messages: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '20' },
    rooms: { type: 'string', default: '100' },
    'member-rooms': { type: 'string', default: '20' },
    keep: { type: 'string' }
  }
})
const total = Number(args.messages)
const roomCount = Number(args.rooms)
const memberRooms = Number(args['member-rooms'])
const rounds = Number(args.rounds)
const userCount = 50

/** A small deterministic generator, so every run searches the same text. */
function prng (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6D2B79F5) >>> 0
    let x = s
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}
const random = prng(42)
// Queries draw from their own sequence, so a run on a kept database asks what a fresh one would.
const queryRandom = prng(7)
const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)] as T

// Latin-script words from syllables, used with Zipf-like frequencies (a few very common, most rare).
const syllables = ['ka', 'lo', 'mer', 'ti', 'san', 'vo', 'ren', 'du', 'pa', 'shi', 'gor', 'el', 'an', 'qui', 'bre', 'tor', 'min', 'ax', 'ul', 'fen']
const vocabulary: string[] = []
for (let i = 0; vocabulary.length < 5000; i++) {
  const n = 1 + (i % 3)
  let word = ''
  for (let j = 0; j < n + 1; j++) word += pick(syllables)
  if (!vocabulary.includes(word)) vocabulary.push(word)
}
const zipfIndex = (size: number): number => Math.min(size - 1, Math.floor(Math.exp(random() * Math.log(size + 1)) - 1))
// Japanese: common kana and kanji strung together without spaces.
const japanese = [...'のにはをたがでてとしれさあるいうかなこもやまよりだっすくおけらんせきつみえめねほゆわ日本人年大一国会事社中出者見言時行分後前生学用東京天気今良話電車駅雨雪山川花']
const latinText = (): string => Array.from({ length: 5 + Math.floor(random() * 11) }, () => vocabulary[zipfIndex(vocabulary.length)]).join(' ')
const japaneseText = (): string => Array.from({ length: 8 + Math.floor(random() * 25) }, () => japanese[zipfIndex(japanese.length)]).join('')

/** Where the bench's data lives: a fresh database, or the kept one of `--keep` (whether it is already loaded). */
async function openDatabase (): Promise<{ handle: DatabaseHandle, loaded: boolean }> {
  const keep = args.keep
  if (keep !== undefined && !/^\w+$/.test(keep)) throw new Error('--keep takes letters, digits and _')
  const dataDir = keep === undefined ? mkdtempSync(join(tmpdir(), 'search-bench-')) : join(tmpdir(), `search-bench-${keep}`)
  const existed = existsSync(join(dataDir, 'chat.sqlite'))
  mkdirSync(dataDir, { recursive: true })
  if (keep === undefined) onCleanup(async () => { rmSync(dataDir, { recursive: true, force: true }) })
  if (args.sqlite) {
    const handle = await connectDatabase({ databaseUrl: undefined, dataDir, poolSize: 1, queueLimit: 100 })
    return { handle, loaded: existed && await isLoaded(handle) }
  }
  const server = process.env.BENCH_DATABASE_URL ?? 'mysql://root@127.0.0.1:3306'
  const name = `search_bench_${keep ?? process.pid}`
  const admin = await mysql.createConnection(server)
  await admin.query(`CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
  await admin.end()
  if (keep === undefined) {
    onCleanup(async () => {
      const conn = await mysql.createConnection(server)
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``)
      await conn.end()
    })
  }
  const url = new URL(server)
  url.pathname = `/${name}`
  const handle = await connectDatabase({ databaseUrl: url.toString(), dataDir, poolSize: 2, queueLimit: 100 })
  return { handle, loaded: await isLoaded(handle) }
}

/** A kept database counts as loaded when it holds the messages asked for; a half-loaded one is an error. */
async function isLoaded (handle: DatabaseHandle): Promise<boolean> {
  // No introspection: MariaDB's information_schema needs temporary files, which a busy shared /tmp can lose.
  const row = await handle.db.selectFrom('messages').select(eb => eb.fn.countAll<number>().as('n')).executeTakeFirst().catch(() => undefined)
  if (row === undefined) return false
  if (Number(row.n) === total) return true
  throw new Error(`the kept database holds ${String(row.n)} messages, not ${total}: drop it or use another --keep name`)
}

async function load (handle: DatabaseHandle): Promise<number> {
  const { db } = handle
  const now = Date.now()
  await db.insertInto('users').values(Array.from({ length: userCount }, (_, i) => ({
    id: i + 1, username: `user${i + 1}`, display_name: `User ${i + 1}`, password_hash: 'x', created_at: now
  }))).execute()
  await db.insertInto('rooms').values(Array.from({ length: roomCount }, (_, i) => ({
    id: i + 1, name: `room${i + 1}`, kind: 'channel' as const, visibility: 'public' as const, created_by: 1, created_at: now
  }))).execute()
  await db.insertInto('memberships').values(Array.from({ length: memberRooms }, (_, i) => ({
    room_id: i + 1, user_id: 1, role: 'member' as const, joined_at: now
  }))).execute()
  const started = performance.now()
  const batch = 2000
  for (let first = 1; first <= total; first += batch) {
    const rows = []
    for (let id = first; id < first + batch && id <= total; id++) {
      rows.push({
        id,
        room_id: 1 + Math.floor(random() * roomCount),
        user_id: 1 + Math.floor(random() * userCount),
        text: random() < 0.25 ? japaneseText() : latinText(),
        client_id: null,
        created_at: now - (total - id) * 1000,
        // One message in fifty was deleted.
        deleted_at: random() < 0.02 ? now : null
      })
    }
    await db.insertInto('messages').values(rows).execute()
  }
  return (performance.now() - started) / 1000
}

/** Samples of real text, so each query kind finds what it is meant to find. */
async function sampleTexts (handle: DatabaseHandle): Promise<string[]> {
  const ids = Array.from({ length: 400 }, () => 1 + Math.floor(queryRandom() * total))
  const rows = await handle.db.selectFrom('messages').select('text').where('id', 'in', ids).execute()
  return rows.map(r => r.text)
}

function queries (samples: string[]): Record<string, () => { q: string, room?: string }> {
  const pickQ = <T>(list: T[]): T => list[Math.floor(queryRandom() * list.length)] as T
  const latin = samples.filter(s => /^[a-z ]+$/.test(s))
  const ja = samples.filter(s => !/^[a-z ]+$/.test(s))
  const word = (rank: [number, number]): string => vocabulary[rank[0] + Math.floor(queryRandom() * (rank[1] - rank[0]))] as string
  const slice = (s: string, n: number): string => { const c = [...s]; const at = Math.floor(queryRandom() * Math.max(1, c.length - n)); return c.slice(at, at + n).join('') }
  return {
    'one common word': () => ({ q: word([0, 20]) }),
    'one rare word': () => ({ q: word([1000, 5000]) }),
    'two words of one message': () => { const w = pickQ(latin).split(' '); return { q: `${pickQ(w)} ${pickQ(w)}` } },
    'word in one room': () => ({ q: word([20, 500]), room: String(1 + Math.floor(queryRandom() * memberRooms)) }),
    'no match': () => ({ q: 'zzqqxx' }),
    'Japanese, 2 characters': () => ({ q: slice(pickQ(ja), 2) }),
    'Japanese, 4 characters': () => ({ q: slice(pickQ(ja), 4) }),
    'Japanese + word': () => ({ q: `${slice(pickQ(ja), 3)} ${word([0, 50])}` }),
    'two Latin letters': () => ({ q: pickQ(['ka', 'lo', 'ti', 'du']) }),
    // Last, so the kinds above ask what they asked before it was added.
    'common word in one room': () => ({ q: word([0, 20]), room: String(1 + Math.floor(queryRandom() * memberRooms)) })
  }
}

runMain(async () => {
  const { handle, loaded } = await openDatabase()
  onCleanup(async () => { await handle.close() })
  if (loaded) {
    const migrateStart = performance.now()
    await migrate(handle.db, handle.dialect)
    console.log(`${handle.dialect}: reusing the kept database (${total.toLocaleString('en')} messages); migrations added since took ${((performance.now() - migrateStart) / 1000).toFixed(1)} s`)
  } else {
    // The schema as it was before search, so the migration indexes a full table as an upgrade would.
    const before = loadMigrations(handle.dialect).filter(m => m.name < '007_search')
    await handle.db.connection().execute(async conn => {
      for (const m of before) for (const s of m.statements) await sql.raw(s).execute(conn)
    })
    console.log(`${handle.dialect}: loading ${total.toLocaleString('en')} messages in ${roomCount} rooms…`)
    const loadSeconds = await load(handle)
    const migrateStart = performance.now()
    await migrate(handle.db, handle.dialect)
    const migrateSeconds = (performance.now() - migrateStart) / 1000
    console.log(`loaded in ${loadSeconds.toFixed(1)} s; search migrations (index of existing messages) took ${migrateSeconds.toFixed(1)} s`)
  }

  const search = new SearchService({ db: handle.db, dialect: handle.dialect, access: new RoomAccess(handle.db), scanLimit: loadConfig({}, false).searchScanLimit })
  const user: AuthUser = { id: 1, username: 'user1', displayName: 'User 1', isAdmin: false, via: 'token', sessionId: null, tokenId: null }
  const kinds = queries(await sampleTexts(handle))
  const all = new Histogram()
  const table: string[] = []
  for (const [kind, make] of Object.entries(kinds)) {
    const h = new Histogram()
    let hits = 0
    for (let i = 0; i < rounds; i++) {
      const { q, room } = make()
      const started = performance.now()
      const page = await search.search(user, { q, room: room ?? null, before: null, limit: 20 })
      // The second page too, as a reader scrolling on would ask for it.
      const last = page.events.at(-1) as { id: string } | undefined
      if (page.hasMore && last !== undefined) await search.search(user, { q, room: room ?? null, before: Number(last.id), limit: 20 })
      const ms = performance.now() - started
      h.record(ms)
      all.record(ms)
      hits += page.events.length
    }
    table.push(`| ${kind} | ${h.quantile(0.5).toFixed(1)} | ${h.quantile(0.95).toFixed(1)} | ${h.max.toFixed(1)} | ${(hits / rounds).toFixed(1)} |`)
  }
  console.log(`\n${handle.dialect}, ${total.toLocaleString('en')} messages, user in ${memberRooms} of ${roomCount} rooms; ms per search (first page + second page when there is one), ${rounds} queries each\n`)
  console.log('| query | p50 | p95 | max | hits on page 1 |\n| --- | --- | --- | --- | --- |')
  console.log(table.join('\n'))
  console.log(`| all | ${all.quantile(0.5).toFixed(1)} | ${all.quantile(0.95).toFixed(1)} | ${all.max.toFixed(1)} | |`)
  return 0
})
