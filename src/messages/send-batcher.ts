import type { Tx } from '../db/connect.js'
import type { EventLog } from '../events/event-log.js'
import type { PublicUser } from '../events/event.js'
import { linkToMessage, type AttachmentJson } from '../attachments/repository.js'
import { isDuplicateKey } from '../db/errors.js'
import { eventJson } from '../events/event.js'
import { checkSenders, eventsById, findByClientIds, insertMentions, insertMessages, type SenderFound } from './repository.js'

export interface SendRequest {
  roomId: number
  user: PublicUser
  text: string
  clientId: string | null
  /** Files already stored (pending), joined to the message in its transaction. */
  attachments?: { ids: number[], json: AttachmentJson[] }
  /** Ids of the room's members the text mentions. */
  mentions?: number[]
  /**
   * The sender's token and membership came from memory: checked again in the
   * transaction (repository.checkSenders), which then also supplies the user
   * as stored. A send that fails the check is not stored and rejects with
   * SenderCheckFailed, for the caller to check the slow way. A send that
   * named its room (`roomName`) also fails the check when the room has since
   * been renamed, so a name always means the room that bears it now.
   */
  check?: { tokenId: number, roomName: string | null }
}

/** A send whose remembered credentials or membership no longer hold (nothing was stored). */
export class SenderCheckFailed extends Error {
  override name = 'SenderCheckFailed'
}

/** The message event's JSON, and whether this call stored it (false: a repeated clientId). */
export interface SendResult { json: string, created: boolean }

/** What a batch did with one send: stored or found (a result), or refused by the check. */
type Outcome = SendResult | SenderCheckFailed

interface Pending extends SendRequest {
  resolve: (r: SendResult) => void
  reject: (err: unknown) => void
}

/**
 * Group commit for sends. Event ids are handed out under one lock, so writers
 * take turns; instead of one transaction per message, the sends that arrive
 * while a transaction runs all go into the next one. That next transaction
 * opens as soon as the one before holds the lock: it checks its senders
 * meanwhile and then waits for the lock, so only the statements that need the
 * lock are on the critical path. A clientId seen before (in the database or
 * earlier in the batch) returns the first event instead of storing a second:
 * checked under the counter lock, so retries that race on different nodes
 * still store one message.
 */
export class SendBatcher {
  private queue: Pending[] = []
  /** A batch has opened its transaction and does not hold the lock yet: the next one waits. */
  private opening = false
  /** Transactions written so far (the benchmark's batches per second). */
  batches = 0

  constructor (private readonly eventLog: EventLog, private readonly maxBatch = 200) {}

  async send (request: SendRequest): Promise<SendResult> {
    return await new Promise<SendResult>((resolve, reject) => {
      this.queue.push({ ...request, resolve, reject })
      this.next()
    })
  }

  /** Starts a batch unless one is still opening (at most one holds the lock, one waits for it). */
  private next (): void {
    if (this.opening || this.queue.length === 0) return
    this.opening = true
    const batch = this.queue.splice(0, this.maxBatch)
    let released = false
    const locked = (): void => {
      if (released) return
      released = true
      this.opening = false
      this.next()
    }
    this.settle(batch, locked).catch(() => {}).finally(locked)
  }

  private async settle (batch: Pending[], locked: () => void): Promise<void> {
    try {
      settleAll(batch, await this.write(batch, locked))
      return
    } catch (err) {
      locked()
      if (!isDuplicateKey(err)) return rejectAll(batch, err)
    }
    // A client id stored since the batch looked (a retry racing on another
    // node, or in the batch before): write the batch again, looking under the
    // lock this time (every writer before has committed then), so a repeat
    // finds the first message.
    try {
      settleAll(batch, await this.write(batch, undefined, true))
      return
    } catch (err) {
      if (!isDuplicateKey(err)) return rejectAll(batch, err)
    }
    // A clash the look-up cannot see: each send on its own, so one sender can
    // never fail everyone else's sends.
    for (const p of batch) await this.write([p], undefined, true).then(r => settleOne(p, r[0] as Outcome), p.reject)
  }

  private async write (all: Pending[], locked?: () => void, lookUnderLock = false): Promise<Outcome[]> {
    this.batches++
    const checks = all.flatMap(p => p.check === undefined ? [] : [{ tokenId: p.check.tokenId, roomId: p.roomId }])
    const keyed = all.filter(p => p.clientId !== null).map(p => ({ userId: Number(p.user.id), clientId: p.clientId as string }))
    let passed = new Map<string, SenderFound>()
    let known = new Map<string, number>()
    // In the transaction, before it queues for the lock: what the request's
    // authentication and room lookup would have read just before the batch,
    // and the client ids already stored. A repeat committed after this read
    // (a retry racing on another node, or in the batch that holds the lock)
    // hits the unique key instead, and settle() then writes the batch again,
    // looking under the lock. Looking under the lock every time
    // would cost each batch a round trip while it holds the lock, and the
    // lock's hold time is what bounds sends per second.
    const beforeLock = async (trx: Tx): Promise<void> => {
      passed = await checkSenders(trx, checks)
      if (!lookUnderLock) known = await findByClientIds(trx, keyed)
    }
    const { result } = await this.eventLog.write(async (trx, pending) => {
      if (lookUnderLock) known = await findByClientIds(trx, keyed)
      const { batch, refused } = applySenderChecks(all, passed)
      const outcomes: Array<{ id: number, json: string | null }> = []
      const rows: Parameters<typeof insertMessages>[1] = []
      const linked: Array<{ ids: number[], messageId: number }> = []
      const mentionRows: Parameters<typeof insertMentions>[1] = []
      for (const p of batch) {
        const key = p.clientId === null ? null : `${p.user.id}\n${p.clientId}`
        const earlier = key === null ? undefined : known.get(key)
        if (earlier !== undefined) { outcomes.push({ id: earlier, json: null }); continue }
        const mentions = p.mentions ?? []
        const payload = {
          text: p.text,
          clientId: p.clientId,
          ...(mentions.length > 0 ? { mentions: mentions.map(String) } : {}),
          ...(p.attachments === undefined ? {} : { attachments: p.attachments.json })
        }
        const event = pending.append({ type: 'message', roomId: p.roomId, user: p.user, payload })
        for (const userId of mentions) mentionRows.push({ messageId: event.id, roomId: p.roomId, userId })
        if (key !== null) known.set(key, event.id)
        if (p.attachments !== undefined) linked.push({ ids: p.attachments.ids, messageId: event.id })
        rows.push({ id: event.id, roomId: p.roomId, userId: Number(p.user.id), text: p.text, clientId: p.clientId, createdAt: event.createdAt })
        outcomes.push({ id: event.id, json: eventJson(event) })
      }
      await insertMessages(trx, rows)
      for (const l of linked) await linkToMessage(trx, l.ids, l.messageId)
      await insertMentions(trx, mentionRows)
      // Read the first events of repeated sends inside the transaction: a
      // failure here must undo the batch, not report stored messages as lost.
      const fresh = new Map(outcomes.filter(o => o.json !== null).map(o => [o.id, o.json as string]))
      const earlier = await eventsById(trx, outcomes.filter(o => o.json === null && !fresh.has(o.id)).map(o => o.id))
      const results = outcomes.map((o): SendResult => o.json !== null
        ? { json: o.json, created: true }
        : { json: fresh.get(o.id) ?? earlier.get(o.id) ?? '', created: false })
      let next = 0
      return all.map((p): Outcome => refused.has(p) ? new SenderCheckFailed('sender check failed') : results[next++] as SendResult)
    }, all.length, { beforeLock, locked })
    return result
  }
}

/**
 * The sends whose remembered credentials still hold (with the user as stored
 * now), and those refused: a send without a check always goes.
 */
function applySenderChecks (all: Pending[], passed: Map<string, SenderFound>): { batch: Pending[], refused: Set<Pending> } {
  const refused = new Set<Pending>()
  const batch: Pending[] = []
  for (const p of all) {
    if (p.check === undefined) {
      batch.push(p)
      continue
    }
    const found = passed.get(`${p.check.tokenId}:${p.roomId}`)
    if (found === undefined || found.userId !== Number(p.user.id) || (p.check.roomName !== null && p.check.roomName !== found.roomName)) refused.add(p)
    else batch.push({ ...p, user: found.user })
  }
  return { batch, refused }
}

function settleAll (batch: Pending[], outcomes: Outcome[]): void {
  batch.forEach((p, i) => settleOne(p, outcomes[i] as Outcome))
}

/** Nothing of the batch was stored: each sender gets the error (503 when the database is away). */
function rejectAll (batch: Pending[], err: unknown): void {
  for (const p of batch) p.reject(err)
}

function settleOne (p: Pending, outcome: Outcome): void {
  if (outcome instanceof SenderCheckFailed) p.reject(outcome)
  else p.resolve(outcome)
}
