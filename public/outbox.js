import { api, ApiError } from './api.js'
import { backoffDelay } from './poll.js'
import { randomId, sleep, errorText } from './ui.js'
import { pendingAdded, pendingChanged, pendingDropped, messageSent } from './state.js'

// Sending messages: each is shown at once (an optimistic copy in the state's
// outbox) and retried with backoff while the failure is transient. Retries keep
// the same clientId, so the server stores the message once however often it
// is sent.

export class Outbox {
  /**
   * @param {import('./state.js').Store} store
   * @param {object} o
   * @param {() => void} o.onUnauthenticated the session ended
   * @param {(roomId: string) => void} o.onDelivered a message of ours was stored
   */
  constructor (store, { onUnauthenticated, onDelivered }) {
    this.store = store
    this.onUnauthenticated = onUnauthenticated
    this.onDelivered = onDelivered
    this.stopped = false
  }

  stop () {
    this.stopped = true
  }

  send (roomId, text) {
    const pending = { clientId: randomId(), roomId, text, state: 'sending', error: '', createdAt: new Date().toISOString() }
    this.store.update(pendingAdded, pending)
    this.deliver(pending.clientId)
  }

  retry (clientId) {
    this.store.update(pendingChanged, clientId, { state: 'sending', error: '' })
    this.deliver(clientId)
  }

  discard (clientId) {
    this.store.update(pendingDropped, clientId)
  }

  async deliver (clientId) {
    for (let attempts = 1; ; attempts++) {
      const pending = this.store.get().outbox.find(p => p.clientId === clientId)
      if (this.stopped || !pending) return
      try {
        const res = await api.send(pending.roomId, pending.text, clientId)
        if (this.stopped) return
        this.store.update(messageSent, clientId, res && res.event)
        this.onDelivered(pending.roomId)
        return
      } catch (err) {
        if (!(err instanceof ApiError)) throw err
        if (err.status === 401) {
          this.onUnauthenticated()
          return
        }
        if (!err.transient) {
          this.store.update(pendingChanged, clientId, { state: 'failed', error: errorText(err) })
          return
        }
        this.store.update(pendingChanged, clientId, { state: 'retrying' })
        await sleep(err.retryAfter ?? backoffDelay(attempts))
      }
    }
  }
}
