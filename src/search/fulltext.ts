import { sql, type RawBuilder } from 'kysely'
import type { Dialect, Executor } from '../db/connect.js'
import { fulltextMatch } from './query.js'
import { allOf, idList, scanNewest, scanStart, type ScanQuery, type ScanState } from './scan.js'

export interface FulltextQuery extends ScanQuery {
  dialect: Dialect
  before: number | null
  /** Messages of the searched rooms a scan may read (SEARCH_SCAN_LIMIT). */
  scanLimit: number
}

/** Messages read first, newest first, before FULLTEXT is asked: a common word fills its page among them. */
const firstScan = 2000
/** The smallest first step when a word's rate says fewer messages fill the page. */
const minFirstStep = 200
/** The newest messages of the site whose words tell how common each word is. */
const sampleSize = 2000
/** FULLTEXT reads every row it matches before any is filtered or sorted; it is asked only when it should match at most this many. */
const fulltextBudget = 3000
/** What a row FULLTEXT matches costs, in messages a scan reads (measured at 1,000,000 messages on MariaDB 10.11). */
const fulltextRowCost = 12
/**
 * A search in at most this many rooms, holding together at most `roomWordLimit`
 * messages, asks FULLTEXT for the rooms' words too (migration 008): the index
 * then intersects the word with the rooms and only their matching rows are read.
 * Each room word costs reading its list of messages in the index (about a
 * microsecond each, a few for an OR of several rooms), hence the bounds.
 */
const maxRoomWords = 5
const roomWordLimit = 50000
/** Nor when the rooms hold more than this share of the site's messages: their words would filter out little, and their messages lie close together for a scan. */
const maxRoomShare = 0.25
/**
 * With room words, FULLTEXT is asked for words expected in at most this many
 * messages of the site (reading a word's list costs a few microseconds a message
 * of the site, measured at 1,000,000 on MariaDB 10.11)...
 */
const roomWordBudget = 50000
/**
 * ...and at once for one expected in at most this many: cheaper than scanning
 * few rooms whose messages are spread over the whole table (each read is a page
 * of its own) until the page fills. A more common word is scanned for first.
 */
const roomWordFirst = 15000

/** The word migration 008 indexes with each message's text: its room, written so that no searched word can match it. */
export const roomWord = (roomId: number): string => `_room${roomId}_`

/** A word start, as FULLTEXT's `word*` matches it. Indexed words hold only letters and digits: nothing to escape. */
export const wordStart = (word: string): RawBuilder<unknown> => sql`m.text REGEXP ${`(*UCP)\\b${word}`}`

/**
 * How many rows each indexed word should match in the whole table, at the rate
 * it has in the site's newest `sampleSize` messages (cheap: those are in memory);
 * with `roomIds`, in the same round trip, how many messages those rooms hold
 * (counted from the (room_id, id) index, up to `roomWordLimit` and one).
 */
export async function wordRows (db: Executor, indexed: string[], total: number, roomIds: number[] = []): Promise<{ words: Array<{ word: string, rows: number }>, roomMessages: number }> {
  const counts = indexed.map((w, i) => sql`SUM(${wordStart(w)}) AS ${sql.ref(`c${i}`)}`)
  const rooms = roomIds.length === 0
    ? sql`0`
    : sql`(SELECT COUNT(*) FROM (SELECT id FROM messages FORCE INDEX (messages_room) WHERE room_id IN (${idList(roomIds)}) LIMIT ${roomWordLimit + 1}) r)`
  const row = (await sql<Record<string, string | number | null>>`SELECT COUNT(*) AS n, ${rooms} AS rooms, ${sql.join(counts)}
    FROM messages m WHERE m.id > ${total - sampleSize}`.execute(db)).rows[0]
  const sampled = Math.max(1, Number(row?.n ?? 0))
  return {
    words: indexed.map((word, i) => ({ word, rows: Number(row?.[`c${i}`] ?? 0) * total / sampled })),
    roomMessages: Number(row?.rooms ?? 0)
  }
}

/**
 * At most `maxRoomWords` rooms holding at most `roomWordLimit` messages, and
 * at most `maxRoomShare` of the site's:
 * FULLTEXT with the rooms' words reads only their matching rows, so a word not
 * among the most common goes there at once. A common one is scanned for first,
 * in one step sized by its rate and the rooms' share of the site (their messages
 * may be spread thinly over the table), then FULLTEXT takes over if it can.
 * Null when the rooms are too many or too big: fulltextNewest goes on as before.
 */
async function fewRoomsNewest (db: Executor, query: FulltextQuery, indexed: string[], scanned: Array<RawBuilder<unknown>>, state: ScanState): Promise<number[] | null> {
  const { words: estimates, roomMessages } = await wordRows(db, indexed, state.newest, query.roomIds)
  if (roomMessages > roomWordLimit || roomMessages > maxRoomShare * state.newest) return null
  const rooms = query.roomIds.map(roomWord)
  const rarest = Math.min(...estimates.map(w => w.rows))
  const words = estimates.filter(w => w.rows <= roomWordBudget).map(w => w.word)
  const others = [...scanned, ...indexed.filter(w => !words.includes(w)).map(wordStart)]
  if (words.length > 0 && rarest <= roomWordFirst) return await fulltextOlder(db, query, state.upper, words, others, query.limit, rooms)
  const budget = state.budget
  state.density = Math.min(1, Math.max(roomMessages, 1) / Math.max(state.newest, 1))
  state.budget = Math.min(budget, firstScan, Math.max(minFirstStep, Math.ceil(2 * query.limit * state.newest / Math.max(rarest, 1))))
  const read = state.budget
  const found = await scanNewest(db, query, [...scanned, ...indexed.map(wordStart)], state)
  if (found.length >= query.limit || state.upper === 0) return found
  if (words.length > 0) return [...found, ...await fulltextOlder(db, query, state.upper, words, others, query.limit - found.length, rooms)]
  state.budget += budget - read
  return await scanNewest(db, query, [...scanned, ...indexed.map(wordStart)], state, found)
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
  if (query.roomIds.length <= maxRoomWords) {
    const few = await fewRoomsNewest(db, query, indexed, scanned, state)
    if (few !== null) return few
  }
  const first = Math.min(firstScan, state.budget)
  const later = state.budget - first
  state.budget = first
  const found = await scanNewest(db, query, matches, state)
  if (found.length >= query.limit || state.upper === 0) return found
  state.budget += later
  const rare = (await wordRows(db, indexed, state.newest)).words.filter(w => w.rows <= fulltextBudget)
  const scanCost = (query.limit - found.length) * (first - state.budget + later) / Math.max(found.length, 0.5)
  const fulltextCost = fulltextRowCost * Math.min(...rare.map(w => w.rows))
  if (rare.length > 0 && !(scanCost <= state.budget && scanCost < fulltextCost)) {
    const words = rare.map(w => w.word)
    const others = [...scanned, ...indexed.filter(w => !words.includes(w)).map(wordStart)]
    return [...found, ...await fulltextOlder(db, query, state.upper, words, others, query.limit - found.length, null)]
  }
  return await scanNewest(db, query, matches, state, found)
}

/**
 * The rest of the page from FULLTEXT: rows below `upper` matching the rare
 * words (and one of `rooms`' words, when given), filtered by everything else.
 * The room is checked on the row all the same: a message may contain another room's word.
 */
async function fulltextOlder (db: Executor, query: ScanQuery, upper: number, rare: string[], others: Array<RawBuilder<unknown>>, want: number, rooms: string[] | null): Promise<number[]> {
  const rows = (await sql<{ id: string | number }>`SELECT m.id FROM messages m
    WHERE ${allOf([
      sql`MATCH (m.text, m.search_room) AGAINST (${fulltextMatch(rare, rooms ?? [])} IN BOOLEAN MODE)`,
      sql`m.id < ${upper}`,
      sql`m.room_id IN (${idList(query.roomIds)})`,
      sql`m.deleted_at IS NULL`,
      ...others
    ])}
    ORDER BY m.id DESC LIMIT ${want}`.execute(db)).rows
  return rows.map(r => Number(r.id))
}
