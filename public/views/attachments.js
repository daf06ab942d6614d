import { h } from '../ui.js'

// Files in the open room: how a message's attachments look in the log
// (images inline and scaled, other files as name, size and download link), the
// attach button with its hidden file chooser, drops and pasted screenshots, and
// the uploads on their way with a progress bar and Cancel.

const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp'])
const SHOWN_MAX = { width: 360, height: 280 }

export function formatSize (bytes) {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KB', 'MB', 'GB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++ }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`
}

/** The size an image is shown at: its own, or smaller to fit, keeping its shape (so the log does not jump when it loads). */
function shownSize ({ width, height }) {
  const scale = Math.min(1, SHOWN_MAX.width / width, SHOWN_MAX.height / height)
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) }
}

/** A message's files, as one element. `url` is relative to the page, as the server gives it. */
export function attachmentsEl (attachments) {
  return h('ul', { class: 'attachments' }, attachments.map(a => {
    if (IMAGE_TYPES.has(a.contentType) && a.width > 0 && a.height > 0) {
      const size = shownSize(a)
      return h('li', { class: 'attachment image' },
        h('a', { href: a.url, target: '_blank', rel: 'noopener', title: `${a.name} (${a.width} × ${a.height}), open full size` },
          h('img', { src: a.url, alt: a.name, width: size.width, height: size.height, loading: 'lazy', decoding: 'async' })))
    }
    return h('li', { class: 'attachment file' },
      h('a', { href: a.url, download: a.name }, a.name), ' ', h('span', { class: 'size' }, formatSize(a.size)))
  }))
}

/** The files a drop or a paste carries, or none (text, links). */
function filesOf (transfer) {
  if (!transfer) return []
  if (transfer.files && transfer.files.length) return [...transfer.files]
  return [...(transfer.items || [])].filter(i => i.kind === 'file').map(i => i.getAsFile()).filter(Boolean)
}

/**
 * @param {object} o
 * @param {(files: File[]) => void} o.onFiles files picked, dropped or pasted for the open room
 * @param {(clientId: string) => void} o.onCancel
 * @param {(clientId: string) => void} o.onRetry
 */
export function createAttachments ({ onFiles, onCancel, onRetry }) {
  let roomOpen = false
  const chooser = h('input', { type: 'file', multiple: true, hidden: true, id: 'attach-files', tabindex: '-1' })
  chooser.addEventListener('change', () => {
    if (chooser.files && chooser.files.length) onFiles([...chooser.files])
    chooser.value = ''
  })
  const button = h('button', { type: 'button', class: 'attach', 'aria-label': 'Attach files', title: 'Attach files (or drop them here, or paste a screenshot)', onclick: () => chooser.click() }, '+')
  const list = h('ul', { class: 'uploads', 'aria-label': 'Uploads' })

  /** Drops anywhere on `zone` (the log and the composer) and pastes into it share files. */
  function acceptFilesOn (zone) {
    const carriesFiles = (e) => e.dataTransfer && [...e.dataTransfer.types].includes('Files')
    zone.addEventListener('dragover', (e) => {
      if (!roomOpen || !carriesFiles(e)) return
      e.preventDefault()
      e.dataTransfer.dropEffect = 'copy'
      zone.classList.add('dropping')
    })
    zone.addEventListener('dragleave', (e) => { if (!zone.contains(e.relatedTarget)) zone.classList.remove('dropping') })
    zone.addEventListener('drop', (e) => {
      zone.classList.remove('dropping')
      const files = filesOf(e.dataTransfer)
      if (!roomOpen || !files.length) return
      e.preventDefault()
      onFiles(files)
    })
    zone.addEventListener('paste', (e) => {
      const files = filesOf(e.clipboardData)
      if (!roomOpen || !files.length) return
      e.preventDefault()
      onFiles(files)
    })
  }

  /** clientId → {li, progress, status, state}: a row is rebuilt only when its state changes, so Cancel stays put. */
  const shown = new Map()
  const statusText = (u) => u.state === 'failed'
    ? `Not sent: ${u.error}`
    : u.state === 'retrying' ? 'Not sent yet, retrying…' : `${formatSize(u.loaded)} of ${formatSize(u.total)}`

  function row (u) {
    const label = u.names.length === 1 ? u.names[0] : `${u.names.length} files`
    const progress = h('progress', { max: String(u.total || 1), value: String(u.loaded), 'aria-label': `Uploading ${label}` })
    const status = h('span', { class: 'status' }, statusText(u))
    const li = h('li', { class: 'upload ' + u.state, dataset: { clientId: u.clientId } }, h('span', { class: 'name' }, label), progress, status)
    if (u.state === 'failed') li.append(h('button', { type: 'button', class: 'small', onclick: () => onRetry(u.clientId) }, 'Retry'))
    li.append(h('button', { type: 'button', class: 'small', onclick: () => onCancel(u.clientId) }, u.state === 'failed' ? 'Discard' : 'Cancel'))
    return { li, progress, status, state: u.state }
  }

  function render (state) {
    roomOpen = state.roomId !== null && Boolean(state.rooms[state.roomId])
    button.disabled = !roomOpen
    const mine = state.uploads.filter(u => u.roomId === state.roomId)
    const items = mine.map(u => {
      let entry = shown.get(u.clientId)
      if (!entry || entry.state !== u.state) {
        entry = row(u)
        shown.set(u.clientId, entry)
      }
      entry.progress.max = u.total || 1
      entry.progress.value = u.loaded
      const text = statusText(u)
      if (entry.status.textContent !== text) entry.status.textContent = text
      return entry.li
    })
    for (const id of [...shown.keys()]) if (!mine.some(u => u.clientId === id)) shown.delete(id)
    if (items.length !== list.children.length || items.some((li, i) => list.children[i] !== li)) list.replaceChildren(...items)
    list.hidden = items.length === 0
  }

  return { button, chooser, list, render, acceptFilesOn }
}
