import type { Executor } from '../db/connect.js'

/**
 * One node delivers each outgoing webhook at a time: it holds the webhook's
 * lease row until `expires_at` and renews it before every delivery. A node that
 * dies stops renewing, and the row is free for another once it expires. The
 * take is one conditional UPDATE, so two nodes can never both succeed.
 */
export class Leases {
  constructor (private readonly db: Executor, readonly holder: string, private readonly leaseMs: number) {}

  /** Takes (or renews) the lease; false when another live node holds it. */
  async take (webhookId: number, now = Date.now()): Promise<boolean> {
    const result = await this.db.updateTable('webhook_leases')
      .set({ holder: this.holder, expires_at: now + this.leaseMs })
      .where('webhook_id', '=', webhookId)
      .where(eb => eb.or([eb('holder', 'is', null), eb('holder', '=', this.holder), eb('expires_at', '<', now)]))
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  async release (webhookId: number): Promise<void> {
    await this.db.updateTable('webhook_leases').set({ holder: null, expires_at: 0 })
      .where('webhook_id', '=', webhookId).where('holder', '=', this.holder).execute()
  }
}
