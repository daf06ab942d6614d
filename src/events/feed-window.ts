import type { FeedEvent } from './feed-event.js'

/** Rough memory of one event beyond its JSON, for the byte cap. */
const eventOverheadBytes = 120

const eventBytes = (e: FeedEvent): number => (e.json?.length ?? 0) + eventOverheadBytes

/**
 * The recent events a process keeps in memory for polls to read, within an
 * event count and a byte cap (25,000 edits of 4,000 escaped characters would
 * otherwise hold 600 MB). Polls behind the window read from the database. The
 * array is compacted in chunks, not on every batch.
 */
export class FeedWindow {
  private events: FeedEvent[] = []
  /** Index in `events` of the first one still in the window (trimmed lazily, in chunks). */
  private offset = 0
  private bytes = 0
  /** The id of the oldest event held (the next one to come while none is). */
  start = 1

  constructor (private readonly caps: { window: number, windowBytes: number }) {}

  /** The event with this id if the window still holds it. */
  get (id: number): FeedEvent | undefined {
    if (id < this.start) return undefined
    return this.events[this.offset + id - this.start]
  }

  /** Adds the next events in id order, then drops the oldest beyond the caps. */
  append (batch: FeedEvent[]): void {
    for (const e of batch) {
      this.events.push(e)
      this.bytes += eventBytes(e)
    }
    this.trim()
  }

  /** Empties the window; the next event to come is `nextId`. */
  reset (nextId: number): void {
    this.events = []
    this.offset = 0
    this.bytes = 0
    this.start = nextId
  }

  private trim (): void {
    let count = this.events.length - this.offset
    while (count > 0 && (count > this.caps.window || this.bytes > this.caps.windowBytes)) {
      this.bytes -= eventBytes(this.events[this.offset] as FeedEvent)
      this.offset++
      this.start++
      count--
    }
    if (this.offset > Math.max(1024, this.caps.window / 4)) {
      this.events = this.events.slice(this.offset)
      this.offset = 0
    }
  }
}
