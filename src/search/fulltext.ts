import { sql, type RawBuilder } from 'kysely'
import type { Executor } from '../db/connect.js'
import { fulltextMatch } from './query.js'
import { allOf, idList, scanNewest, scanStart, type ScanQuery } from './scan.js'

export interface FulltextQuery extends ScanQuery {
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

/** A word start, as FULLTEXT's `word*` matches it. Indexed words hold only letters and digits: nothing to escape. */
export const wordStart = (word: string): RawBuilder<unknown> => sql`m.text REGEXP ${`(*UCP)\\b${word}`}`

/**
 * The indexed words FULLTEXT can look up cheaply: those found in so few of the
 * newest messages that, at that rate, the whole table holds at most `fulltextBudget`.
 */
export async function rareWords (db: Executor, indexed: string[], total: number): Promise<string[]> {
  const counts = indexed.map((w, i) => sql`SUM(${wordStart(w)}) AS ${sql.ref(`c${i}`)}`)
  const row = (await sql<Record<string, string | number | null>>`SELECT COUNT(*) AS n, ${sql.join(counts)}
    FROM messages m WHERE m.id > ${total - sampleSize}`.execute(db)).rows[0]
  const sampled = Math.max(1, Number(row?.n ?? 0))
  return indexed.filter((_, i) => Number(row?.[`c${i}`] ?? 0) * total / sampled <= fulltextBudget)
}

/**
 * MySQL/MariaDB, with at least one word FULLTEXT can find. FULLTEXT hands
 * over every row it matches before any is filtered or sorted (seconds for a
 * word in one message of twenty), so: the newest messages of the searched
 * rooms are read first, indexed words checked as word starts by REGEXP; a
 * common word fills its page there. Then FULLTEXT is asked for the rare
 * words only (the others checked by REGEXP on its few rows); when every word
 * is common, the scan goes on, bounded by `scanLimit` as for unindexed words.
 */
export async function fulltextNewest (db: Executor, query: FulltextQuery, indexed: string[], scanned: Array<RawBuilder<unknown>>): Promise<number[]> {
  const matches = [...scanned, ...indexed.map(wordStart)]
  const state = await scanStart(db, query.before, query.scanLimit)
  const later = state.budget - Math.min(firstScan, state.budget)
  state.budget -= later
  const found = await scanNewest(db, query, matches, state)
  if (found.length >= query.limit || state.upper === 0) return found
  const rare = await rareWords(db, indexed, state.newest)
  if (rare.length > 0) {
    const others = [...scanned, ...indexed.filter(w => !rare.includes(w)).map(wordStart)]
    return [...found, ...await fulltextOlder(db, query, state.upper, rare, others, query.limit - found.length)]
  }
  state.budget += later
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
