/* global XMLHttpRequest, FormData */
import { ApiError, parseRetryAfter } from './api.js'
import { backoffDelay } from './poll.js'
import { randomId, sleep, errorText } from './ui.js'
import { uploadAdded, uploadChanged, uploadDropped, uploadSent } from './state.js'

// Sharing files: each upload is one multipart request made with
// XMLHttpRequest, because fetch reports no upload progress. Like a message it
// carries a clientId, so a retry after a lost answer stores the files once.
// The File objects stay here; the state holds only what the page shows.

export class Uploads {
  /**
   * @param {import('./state.js').Store} store
   * @param {object} o
   * @param {() => void} o.onUnauthenticated the session ended
   * @param {(roomId: string) => void} o.onDelivered the files were stored
   */
  constructor (store, { onUnauthenticated, onDelivered }) {
    this.store = store
    this.onUnauthenticated = onUnauthenticated
    this.onDelivered = onDelivered
    this.stopped = false
    /** clientId → {files, xhr}: what an upload sends, and its request while one runs. */
    this.jobs = new Map()
  }

  stop () {
    this.stopped = true
    for (const clientId of [...this.jobs.keys()]) this.cancel(clientId)
  }

  /** Shares `files` (a FileList or an array of File) in a room, as one message. */
  add (roomId, files) {
    const list = [...files]
    if (!list.length) return
    const clientId = randomId()
    const total = list.reduce((sum, f) => sum + f.size, 0)
    this.jobs.set(clientId, { files: list, xhr: null })
    this.store.update(uploadAdded, { clientId, roomId, names: list.map(f => f.name), loaded: 0, total, state: 'uploading', error: '' })
    this.deliver(clientId)
  }

  retry (clientId) {
    this.store.update(uploadChanged, clientId, { state: 'uploading', error: '', loaded: 0 })
    this.deliver(clientId)
  }

  /** Stops sending and forgets the upload (files already stored by then stay: their message shows). */
  cancel (clientId) {
    const job = this.jobs.get(clientId)
    this.jobs.delete(clientId)
    if (job && job.xhr) job.xhr.abort()
    this.store.update(uploadDropped, clientId)
  }

  async deliver (clientId) {
    for (let attempts = 1; ; attempts++) {
      const upload = this.store.get().uploads.find(u => u.clientId === clientId)
      const job = this.jobs.get(clientId)
      if (this.stopped || !upload || !job) return
      try {
        const res = await this.post(upload, job)
        if (!this.jobs.has(clientId)) return
        this.jobs.delete(clientId)
        this.store.update(uploadSent, clientId, res && res.event)
        this.onDelivered(upload.roomId)
        return
      } catch (err) {
        if (!(err instanceof ApiError) || !this.jobs.has(clientId)) return
        if (err.status === 401) {
          this.onUnauthenticated()
          return
        }
        if (!err.transient) {
          this.store.update(uploadChanged, clientId, { state: 'failed', error: errorText(err) })
          return
        }
        this.store.update(uploadChanged, clientId, { state: 'retrying' })
        await sleep(err.retryAfter ?? backoffDelay(attempts))
      }
    }
  }

  /** One try: resolves with the answer's JSON, rejects with an ApiError (or nothing useful once cancelled). */
  post (upload, job) {
    const form = new FormData()
    // The clientId goes first: the server answers a retry before reading the files again.
    form.append('clientId', upload.clientId)
    for (const file of job.files) form.append('file', file, file.name)
    const xhr = new XMLHttpRequest()
    job.xhr = xhr
    return new Promise((resolve, reject) => {
      xhr.open('POST', `api/rooms/${encodeURIComponent(upload.roomId)}/attachments`)
      xhr.setRequestHeader('Accept', 'application/json')
      xhr.responseType = 'text'
      xhr.upload.addEventListener('progress', (e) => {
        if (e.lengthComputable) this.store.update(uploadChanged, upload.clientId, { loaded: e.loaded, total: e.total })
      })
      xhr.addEventListener('load', () => {
        let data = null
        try { data = JSON.parse(xhr.responseText) } catch { /* a proxy's page */ }
        if (xhr.status >= 200 && xhr.status < 300) resolve(data)
        else {
          const error = data && typeof data.error === 'object' && data.error !== null ? data.error : {}
          reject(new ApiError(xhr.status, error, parseRetryAfter(xhr.getResponseHeader('Retry-After'))))
        }
      })
      xhr.addEventListener('error', () => reject(new ApiError(0)))
      xhr.addEventListener('abort', () => reject(new Error('cancelled')))
      xhr.send(form)
    })
  }
}
