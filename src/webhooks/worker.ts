import { randomBytes } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { WebhookConfig } from '../config.js'
import type { Db } from '../db/connect.js'
import type { PublicUser } from '../events/event.js'
import { findBot } from './bots.js'
import { deliver, type DeliveryOutcome } from './deliver.js'
import { roomEventsAfter, roomName, type RoomEvent } from './events.js'
import { Leases } from './lease.js'
import * as repo from './repository.js'
import { signature } from './signing.js'
import { botReply } from './bot-reply.js'

export interface WorkerDeps {
  db: Db
  log: FastifyBaseLogger
  config: WebhookConfig
  /** Posts a bot's reply through the message service (group commit, event stream). */
  sendAs: (roomId: number, user: PublicUser, text: string, clientId: string) => Promise<unknown>
}

const batchSize = 50
const maxBackoffMs = 10 * 60 * 1000

/** Pause before retry number `attempts`: 1 s, 2 s, 4 s … capped at 10 min. */
export const backoffMs = (attempts: number): number => Math.min(maxBackoffMs, 1000 * 2 ** Math.max(0, attempts - 1))

/**
 * Delivers outgoing webhooks from this node. Each webhook is worked by one task
 * that holds its lease and walks the room's events after the webhook's cursor,
 * one POST at a time, so each receiver sees events in stream order; tasks run
 * side by side (at most WEBHOOK_MAX_IN_FLIGHT), so a slow receiver holds only
 * its own. The cursor lives in the database: a restart, a crash or another node
 * picks up where the last acknowledgement left off (at least once).
 */
export class WebhookWorker {
  readonly leases: Leases
  private readonly running = new Map<number, Promise<void>>()
  private readonly stop = new AbortController()
  private timer: NodeJS.Timeout | null = null
  /**
   * Rooms with a webhook that is not failing, as of the last look (null: none
   * yet), so that events in other rooms (on most sites, all of them) cost no
   * look. Hooks made on another node are learned at the next look, at most an
   * interval later.
   */
  private hooked: Set<number> | null = null
  /** Rooms noted while a look was under way: that look may predate them. */
  private notedDuringLook: number[] | null = null
  private ticking = false
  private again = false

  constructor (private readonly deps: WorkerDeps) {
    this.leases = new Leases(deps.db, `${process.pid}-${randomBytes(6).toString('hex')}`, deps.config.leaseMs)
  }

  get inFlight (): number { return this.running.size }

  start (): void { this.schedule() }

  /** A batch of committed events: look for due deliveries now if one is in a room with a webhook. */
  onEvents (batch: ReadonlyArray<{ roomId: number | null }>): void {
    const hooked = this.hooked
    if (hooked === null || batch.some(e => e.roomId !== null && hooked.has(e.roomId))) this.wake()
  }

  /** A webhook was made or resumed here for this room: its next events must not wait for an interval. */
  noteHookedRoom (roomId: number): void {
    this.hooked?.add(roomId)
    this.notedDuringLook?.push(roomId)
  }

  /** New events were committed somewhere: look for due webhooks now. */
  wake (): void {
    if (this.stop.signal.aborted) return
    if (this.ticking) { this.again = true; return }
    this.ticking = true
    this.tick().catch(err => this.deps.log.warn({ err }, 'webhooks: could not look for due deliveries'))
      .finally(() => {
        this.ticking = false
        if (this.again) { this.again = false; this.wake() } else this.schedule()
      })
  }

  /** Stops taking work, cuts deliveries in progress (they are delivered again later) and frees the leases. */
  async close (): Promise<void> {
    this.stop.abort()
    if (this.timer !== null) clearTimeout(this.timer)
    await Promise.allSettled([...this.running.values()])
  }

  private schedule (): void {
    if (this.stop.signal.aborted) return
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = setTimeout(() => { this.timer = null; this.wake() }, this.deps.config.intervalMs)
    this.timer.unref()
  }

  private async tick (): Promise<void> {
    const noted: number[] = []
    this.notedDuringLook = noted
    const hooks = await repo.activeOutgoing(this.deps.db, Date.now()).finally(() => { this.notedDuringLook = null })
    this.hooked = new Set([...hooks.map(h => h.roomId), ...noted])
    for (const { id, due } of hooks) {
      if (!due) continue
      if (this.stop.signal.aborted || this.running.size >= this.deps.config.maxInFlight) return
      if (this.running.has(id) || !await this.leases.take(id)) continue
      const task = this.work(id)
        .catch(err => this.deps.log.warn({ err, webhook: id }, 'webhooks: delivery task failed'))
        .finally(() => {
          this.running.delete(id)
          this.leases.release(id).catch(() => {})
        })
      this.running.set(id, task)
    }
  }

  /** Delivers one webhook's pending events until none is left, one fails, or the lease is lost. */
  private async work (id: number): Promise<void> {
    const first = await repo.findOutgoing(this.deps.db, id)
    if (first === undefined) return
    const room = { id: String(first.roomId), name: await roomName(this.deps.db, first.roomId) }
    for (;;) {
      const hook = await repo.findOutgoing(this.deps.db, id)
      if (hook === undefined || hook.failing || hook.nextAttemptAt > Date.now()) return
      const events = await roomEventsAfter(this.deps.db, hook.roomId, hook.lastDeliveredEventId, batchSize)
      if (events.length === 0) return
      let passed: number | null = null
      for (const event of events) {
        if (!wanted(hook, event)) { passed = event.id; continue }
        if (passed !== null) await repo.acknowledge(this.deps.db, id, passed)
        passed = null
        // The lease row goes with the webhook: losing it also means "deleted".
        if (this.stop.signal.aborted || !await this.leases.take(id)) return
        if (!await this.deliverOne(hook, room, event)) return
      }
      if (passed !== null) await repo.acknowledge(this.deps.db, id, passed)
    }
  }

  /** One POST; true when acknowledged (and the cursor moved past it). */
  private async deliverOne (hook: repo.OutgoingHook, room: { id: string, name: string | null }, event: RoomEvent): Promise<boolean> {
    const body = `{"event":${event.json},"room":${JSON.stringify(room)}}`
    const outcome = await deliver({
      url: hook.url,
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'longpoll-chat-webhook/1',
        'x-chat-event': String(event.id),
        'x-chat-signature': signature(body, hook.secret)
      },
      allowPrivate: this.deps.config.allowPrivate,
      signal: this.stop.signal
    })
    if (this.stop.signal.aborted) return false
    if (!outcome.ok) {
      await this.fail(hook, outcome)
      return false
    }
    await this.reply(hook, event, outcome.body)
    await repo.acknowledge(this.deps.db, hook.id, event.id)
    return true
  }

  /** A 2xx whose JSON has `text` is posted by the webhook's bot; one reply per event, however often it is delivered. */
  private async reply (hook: repo.OutgoingHook, event: RoomEvent, body: string): Promise<void> {
    const text = botReply(body)
    if (text === null) return
    const bot = await findBot(this.deps.db, hook.botUserId)
    if (bot === undefined) return
    await this.deps.sendAs(hook.roomId, bot, text, `webhook-reply-${event.id}`)
  }

  private async fail (hook: repo.OutgoingHook, outcome: Extract<DeliveryOutcome, { ok: false }>): Promise<void> {
    const now = Date.now()
    const attempts = hook.attempts + 1
    const firstFailureAt = hook.firstFailureAt ?? now
    const failing = now - firstFailureAt >= this.deps.config.retryDeadlineMs
    await repo.recordFailure(this.deps.db, hook.id, { attempts, firstFailureAt, nextAttemptAt: now + backoffMs(attempts), failing, error: outcome.error })
    this.deps.log[failing ? 'warn' : 'info']({ webhook: hook.id, attempts, error: outcome.error }, failing ? 'webhook paused: failing for too long' : 'webhook delivery failed; will retry')
  }
}

/** Subscribed, meant for the whole room, and not the webhook's own bot talking (a bot must not answer itself forever). */
function wanted (hook: repo.OutgoingHook, event: RoomEvent): boolean {
  return hook.events.includes(event.type) && !event.targeted && event.userId !== hook.botUserId
}
