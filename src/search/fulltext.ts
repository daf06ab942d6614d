import { sql, type RawBuilder } from 'kysely'
import type { Dialect, Executor } from '../db/connect.js'
import { fulltextMatch } from './query.js'
import { allOf, idList, scanNewest, scanStart, type ScanQuery } from './scan.js'

export interface FulltextQuery extends ScanQuery {
  dialect: Dialect
  before: number | null
  /** Messages of the searched rooms a scan may read (SEARCH_SCAN_LIMIT). */
  scanLimit: number
}

/** Messages read first, newest first, before FULLTEXT is asked: a common word fills its page among them. */
const firstScan = 2000
/** The newest messages of the site whose words tell how common each word is. */
const sampleSize = 2000
/** FULLTEXT reads every row it matches before any is filtered or sorted; it is asked only when it should match at most this many. */
const fulltextBudget = 3000
/** What a row FULLTEXT matches costs, in messages a scan reads (measured at 1,000,000 messages on MariaDB 10.11). */
const fulltextRowCost = 12

/** A word start, as FULLTEXT's `word*` matches it. Indexed words hold only letters and digits: nothing to escape. */
export const wordStart = (word: string): RawBuilder<unknown> => sql`m.text REGEXP ${`(*UCP)\\b${word}`}`

/**
 * The indexed words FULLTEXT can look up cheaply, with how many rows each
 * should match: those found in so few of the newest messages that, at that
 * rate, the whole table holds at most `fulltextBudget`.
 */
export async function rareWords (db: Executor, indexed: string[], total: number): Promise<Array<{ word: string, rows: number }>> {
  const counts = indexed.map((w, i) => sql`SUM(${wordStart(w)}) AS ${sql.ref(`c${i}`)}`)
  const row = (await sql<Record<string, string | number | null>>`SELECT COUNT(*) AS n, ${sql.join(counts)}
    FROM messages m WHERE m.id > ${total - sampleSize}`.execute(db)).rows[0]
  const sampled = Math.max(1, Number(row?.n ?? 0))
  return indexed.map((word, i) => ({ word, rows: Number(row?.[`c${i}`] ?? 0) * total / sampled }))
    .filter(w => w.rows <= fulltextBudget)
}

/**
 * MySQL/MariaDB, with at least one word FULLTEXT can find. FULLTEXT hands
 * over every row it matches before any is filtered or sorted (seconds for a
 * word in one message of twenty), so: the newest messages of the searched
 * rooms are read first, indexed words checked as word starts by REGEXP; a
 * common word fills its page there. Then whichever is cheaper finishes the
 * page: the scan going on, if at the rate it found hits it fills the page
 * within `scanLimit`, or FULLTEXT asked for the rare words only (the others
 * checked on its few rows). When every word is common, the scan goes on,
 * bounded by `scanLimit` as for unindexed words.
 */
export async function fulltextNewest (db: Executor, query: FulltextQuery, indexed: string[], scanned: Array<RawBuilder<unknown>>): Promise<number[]> {
  const matches = [...scanned, ...indexed.map(wordStart)]
  const state = await scanStart(db, query.dialect, query.before, query.scanLimit)
  const first = Math.min(firstScan, state.budget)
  const later = state.budget - first
  state.budget = first
  const found = await scanNewest(db, query, matches, state)
  if (found.length >= query.limit || state.upper === 0) return found
  state.budget += later
  const rare = await rareWords(db, indexed, state.newest)
  const scanCost = (query.limit - found.length) * (first - state.budget + later) / Math.max(found.length, 0.5)
  const fulltextCost = fulltextRowCost * Math.min(...rare.map(w => w.rows))
  if (rare.length > 0 && !(scanCost <= state.budget && scanCost < fulltextCost)) {
    const words = rare.map(w => w.word)
    const others = [...scanned, ...indexed.filter(w => !words.includes(w)).map(wordStart)]
    return [...found, ...await fulltextOlder(db, query, state.upper, words, others, query.limit - found.length)]
  }
  return await scanNewest(db, query, matches, state, found)
}

/** The rest of the page from FULLTEXT: rows below `upper` matching the rare words, filtered by everything else. */
async function fulltextOlder (db: Executor, query: ScanQuery, upper: number, rare: string[], others: Array<RawBuilder<unknown>>, want: number): Promise<number[]> {
  const rows = (await sql<{ id: string | number }>`SELECT m.id FROM messages m
    WHERE ${allOf([
      sql`MATCH (m.text) AGAINST (${fulltextMatch(rare)} IN BOOLEAN MODE)`,
      sql`m.id < ${upper}`,
      sql`m.room_id IN (${idList(query.roomIds)})`,
      sql`m.deleted_at IS NULL`,
      ...others
    ])}
    ORDER BY m.id DESC LIMIT ${want}`.execute(db)).rows
  return rows.map(r => Number(r.id))
}
