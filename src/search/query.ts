/**
 * How a search text becomes database conditions. Every word must occur in a
 * message; what each database can look up in an index differs, so the words are
 * sorted here into those an index can find and those checked with LIKE.
 */

/** The words of a query: split at white space, duplicates (ignoring case) dropped. */
export function queryWords (q: string): string[] {
  const seen = new Set<string>()
  const words: string[] = []
  for (const word of q.split(/\s+/u)) {
    const key = word.toLowerCase()
    if (word === '' || seen.has(key)) continue
    seen.add(key)
    words.push(word)
  }
  return words
}

const codePoints = (word: string): number => [...word].length

/** SQLite's trigram index finds words of three characters or more; shorter ones need LIKE. */
export function splitForTrigram (words: string[]): { indexed: string[], scanned: string[] } {
  return {
    indexed: words.filter(w => codePoints(w) >= 3),
    scanned: words.filter(w => codePoints(w) < 3)
  }
}

/** An FTS5 query that asks for every word as a literal substring (a quoted phrase each). */
export function fts5Match (words: string[]): string {
  return words.map(w => `"${w.replace(/"/g, '""')}"`).join(' AND ')
}

/** InnoDB's default stop words: FULLTEXT does not index them, so they are checked with LIKE. */
const innodbStopwords = new Set(['a', 'about', 'an', 'are', 'as', 'at', 'be', 'by', 'com', 'de', 'en', 'for', 'from',
  'how', 'i', 'in', 'is', 'it', 'la', 'of', 'on', 'or', 'that', 'the', 'this', 'to', 'was', 'what', 'when', 'where',
  'who', 'will', 'with', 'und', 'www'])

/** Scripts written without spaces between words: the FULLTEXT parser would see a whole sentence as one word. */
const unspacedScript = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u

/**
 * InnoDB FULLTEXT (default parser, min token 3, max 84) can look up a word made
 * only of letters and digits in a spaced script; everything else (Japanese,
 * punctuation inside the word, stop words, short words) is checked with LIKE.
 */
export function splitForFulltext (words: string[]): { indexed: string[], scanned: string[] } {
  const indexable = (w: string): boolean => /^[\p{L}\p{N}]+$/u.test(w) && !unspacedScript.test(w) &&
    codePoints(w) >= 3 && codePoints(w) <= 84 && !innodbStopwords.has(w.toLowerCase())
  return { indexed: words.filter(indexable), scanned: words.filter(w => !indexable(w)) }
}

/**
 * A boolean-mode query that requires every word, each matching the start of a
 * word, and, when `rooms` are given, one of those whole words (rooms' words, see fulltext.ts).
 */
export function fulltextMatch (words: string[], rooms: string[] = []): string {
  const required = words.map(w => `+${w}*`)
  if (rooms.length === 1) required.push(`+${rooms[0] as string}`)
  if (rooms.length > 1) required.push(`+(${rooms.join(' ')})`)
  return required.join(' ')
}

/**
 * A LIKE pattern for a literal substring, to be used with `ESCAPE '!'`: both
 * databases take that spelling alike (a backslash means different things in their string literals).
 */
export function likeContains (word: string): string {
  return `%${word.replace(/[!%_]/g, c => `!${c}`)}%`
}
