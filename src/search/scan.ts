import { sql, type RawBuilder } from 'kysely'
import type { Dialect, Executor } from '../db/connect.js'

/** Where a scan stands: the next id range ends below `upper`; `budget` messages of the searched rooms may still be read. */
export interface ScanState {
  upper: number
  budget: number
  /** The share of ids in the searched rooms, as the last range showed it. */
  density: number
  /** The newest message id of the site when the scan started. */
  readonly newest: number
  readonly dialect: Dialect
}

export interface ScanQuery {
  roomIds: number[]
  limit: number
}

export const idList = (values: number[]): RawBuilder<unknown> => sql.join(values.map(v => sql`${v}`))
export const allOf = (conditions: Array<RawBuilder<unknown>>): RawBuilder<unknown> =>
  conditions.length === 0 ? sql`1 = 1` : sql.join(conditions, sql` AND `)

/** The first step is small, so a common word answers after reading a few thousand messages. */
const firstStep = 2000
const stepGrowth = 4
/** Before the first range shows it, the share of ids taken to be in the searched rooms: low, so the first range is rarely short. */
const firstDensity = 0.1
/** Ranges are guessed this much wider than the density seen so far needs, so most are cut at their count, not short of it. */
const widen = 1.5

/** Where a scan of the messages before `before` (or all) starts. */
export async function scanStart (db: Executor, dialect: Dialect, before: number | null, budget: number): Promise<ScanState> {
  const row = await db.selectFrom('messages').select(eb => eb.fn.max('id').as('id')).executeTakeFirst()
  const newest = Number(row?.id ?? 0)
  return { upper: Math.min(newest + 1, before ?? Number.MAX_SAFE_INTEGER), budget, density: firstDensity, newest, dialect }
}

interface Step { hits: number[], lower: number, count: number }

/**
 * One round trip for one range: the newest `want` messages of the searched
 * rooms at or above `guess` (from the (room_id, id) index alone), the ones
 * among them meeting `matches`, and where the range ends with how many it held.
 */
async function step (db: Executor, state: ScanState, query: ScanQuery, matches: Array<RawBuilder<unknown>>, guess: number, want: number, need: number): Promise<Step> {
  const { upper } = state
  // Walking the primary key down for ORDER BY id looks cheaper to MariaDB's planner, and reads every room's messages.
  const byRoom = state.dialect === 'sqlite' ? sql`INDEXED BY messages_room` : sql`FORCE INDEX (messages_room)`
  const range = sql`SELECT id FROM messages ${byRoom} WHERE room_id IN (${idList(query.roomIds)}) AND id >= ${guess} AND id < ${upper} ORDER BY id DESC LIMIT ${want}`
  const rows = (await sql<{ id: string | number | null, n: string | number | null }>`
    SELECT hits.id AS id, NULL AS n FROM (SELECT m.id FROM (${range}) w JOIN messages m ON m.id = w.id
      WHERE ${allOf([sql`m.deleted_at IS NULL`, ...matches])} ORDER BY m.id DESC LIMIT ${need}) hits
    UNION ALL SELECT MIN(r.id), COUNT(*) FROM (${range}) r`.execute(db)).rows
  const total = rows.find(r => r.n !== null)
  const count = Number(total?.n ?? 0)
  const hits = rows.filter(r => r.n === null).map(r => Number(r.id)).sort((a, b) => b - a)
  return { hits, count, lower: count === want ? Number(total?.id) : guess }
}

/**
 * Ids of live messages meeting `matches`, newest first, read one id range at
 * a time until the page is full, the history begins or the budget of messages
 * of the searched rooms is spent: a common word stops early, a rare one costs
 * a bounded scan. The state is moved to where the scan stopped.
 */
export async function scanNewest (db: Executor, query: ScanQuery, matches: Array<RawBuilder<unknown>>, state: ScanState, found: number[] = []): Promise<number[]> {
  let want = firstStep
  while (state.upper > 0 && state.budget > 0 && found.length < query.limit) {
    want = Math.min(want, state.budget)
    const guess = Math.max(0, state.upper - Math.ceil(widen * want / state.density))
    const { hits, lower, count } = await step(db, state, query, matches, guess, want, query.limit - found.length)
    found.push(...hits)
    state.density = Math.min(1, Math.max(count, 1) / Math.max(state.upper - lower, 1))
    state.budget -= count
    state.upper = lower
    want *= stepGrowth
  }
  return found
}
