/**
 * Write transactions that lost a race are run again. On one MySQL or MariaDB
 * server the event-counter lock makes writers wait, so this is rare; on a
 * Galera cluster written through several nodes, transactions are certified at
 * commit and the loser gets error 1213 (deadlock) even without a lock wait, and
 * a node that is joining or has lost its cluster answers "WSREP has not yet
 * prepared node for application use" until it is ready. Both undo the whole
 * transaction, so running it again is safe; a send's clientId is checked
 * inside the transaction, so a retried send still stores one message.
 */
export interface RetryOptions {
  /** Runs of the transaction at most, the first included. */
  attempts: number
  /** Backoff before the n-th retry is random in [0, baseDelayMs × 2^n). */
  baseDelayMs: number
}

export const defaultRetry: RetryOptions = { attempts: 5, baseDelayMs: 10 }

/** Whether the transaction was rolled back by the server and may simply run again. */
export function isRetryableWriteConflict (err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  const e = err as { code?: unknown, errno?: unknown, message?: unknown }
  if (e.errno === 1213 || e.code === 'ER_LOCK_DEADLOCK') return true
  // 1047 ER_UNKNOWN_COM_ERROR is what a non-primary Galera node answers; the message says why.
  return typeof e.message === 'string' && /WSREP has not yet prepared node for application use/i.test(e.message)
}

export async function retryWriteConflicts<T> (fn: () => Promise<T>, options: RetryOptions = defaultRetry): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn()
    } catch (err) {
      if (attempt >= options.attempts || !isRetryableWriteConflict(err)) throw err
      await new Promise(resolve => setTimeout(resolve, Math.random() * options.baseDelayMs * 2 ** attempt))
    }
  }
}
