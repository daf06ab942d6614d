import type { FastifyBaseLogger } from 'fastify'
import type { Db } from '../db/connect.js'
import { toEphemeralEvent, type EphemeralEvent } from './feed-event.js'

export type EphemeralListener = (event: EphemeralEvent) => void

const batchSize = 1000
const maxAgeMs = 10000

/**
 * The feed's reader of typing notices (ephemeral_events). It reads when this
 * process wrote a notice, and otherwise at most one interval after its last
 * read (other processes' notices), so that a wake-up for committed events
 * alone, most of a busy node's reads, costs one query, not two.
 */
export class TypingReader {
  private head = 0
  private due = true
  private lastReadAt = 0
  private readonly listeners: EphemeralListener[] = []

  constructor (private readonly db: Db, private readonly log: FastifyBaseLogger, private readonly intervalMs: number) {}

  onNotice (listener: EphemeralListener): void { this.listeners.push(listener) }

  /** Notices written before the process started are not news. */
  async start (): Promise<void> {
    const row = await this.db.selectFrom('ephemeral_events').select(eb => eb.fn.max('id').as('max')).executeTakeFirst()
    this.head = Number(row?.max ?? 0)
  }

  /** This process wrote a notice: the next look reads. */
  markDue (): void { this.due = true }

  /** Reads new notices if one was written here or the interval has passed since the last read. */
  async readIfDue (): Promise<void> {
    if (!this.due && Date.now() - this.lastReadAt < this.intervalMs) return
    this.due = false
    this.lastReadAt = Date.now()
    const rows = await this.db.selectFrom('ephemeral_events as e')
      .innerJoin('users as u', 'u.id', 'e.user_id')
      .select(['e.id', 'e.room_id', 'e.user_id', 'e.type', 'e.created_at', 'u.username', 'u.display_name'])
      .where('e.id', '>', this.head)
      .orderBy('e.id')
      .limit(batchSize)
      .execute()
    const freshAfter = Date.now() - maxAgeMs
    for (const row of rows) {
      this.head = Math.max(this.head, Number(row.id))
      if (Number(row.created_at) < freshAfter) continue
      const event = toEphemeralEvent(row)
      for (const listener of this.listeners) {
        try { listener(event) } catch (err) { this.log.error({ err }, 'ephemeral listener failed') }
      }
    }
  }
}
