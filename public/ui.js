/* global document, crypto, URL, setTimeout, clearTimeout, localStorage */
// Small DOM helpers. Every piece of user text reaches the page as a Text node
// (append(string) / textContent): nothing here ever parses HTML.

/**
 * Builds an element. props: `class`, `text`, `on<event>` listeners, `dataset`,
 * anything else becomes an attribute (true → empty attribute, false/null → none).
 * Children may be nodes or strings; strings become Text nodes.
 */
export function h (tag, props = {}, ...children) {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue
    if (key === 'class') el.className = value
    else if (key === 'text') el.textContent = value
    else if (key === 'dataset') Object.assign(el.dataset, value)
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value)
    else el.setAttribute(key, value === true ? '' : String(value))
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null && child !== false) el.append(child)
  }
  return el
}

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi
const TRAILING = /[.,;:!?)\]}'"]+$/

/**
 * The text as a fragment where http(s) URLs are links: each <a> is built from
 * a parsed URL (so `javascript:` can never slip in) and opens without access
 * to this page.
 */
export function linkify (text) {
  const frag = document.createDocumentFragment()
  let last = 0
  for (const match of text.matchAll(URL_RE)) {
    let raw = match[0]
    const trail = raw.match(TRAILING)
    if (trail) raw = raw.slice(0, -trail[0].length)
    let href = null
    try {
      const url = new URL(raw)
      if (url.protocol === 'http:' || url.protocol === 'https:') href = url.href
    } catch { /* not a URL after all */ }
    if (href === null) continue
    if (match.index > last) frag.append(text.slice(last, match.index))
    frag.append(h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, raw))
    last = match.index + raw.length
  }
  if (last < text.length) frag.append(text.slice(last))
  return frag
}

/** Ids are strings of digits, possibly beyond 2^53: compare as numbers without Number(). */
export function compareIds (a, b) {
  if (a.length !== b.length) return a.length - b.length
  return a < b ? -1 : a > b ? 1 : 0
}

export function maxId (a, b) {
  if (a === null || a === undefined) return b ?? null
  if (b === null || b === undefined) return a
  return compareIds(a, b) >= 0 ? a : b
}

/** A random id for optimistic messages (crypto.randomUUID needs a secure context; this does not). */
export function randomId () {
  const bytes = new Uint8Array(16)
  crypto.getRandomValues(bytes)
  return Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('')
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' })
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })

/** A <time> element: the clock time, the full date on hover. */
export function timeEl (iso) {
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return h('time')
  const sameDay = date.toDateString() === new Date().toDateString()
  return h('time', { datetime: date.toISOString(), title: dateTimeFormat.format(date) },
    sameDay ? timeFormat.format(date) : dateTimeFormat.format(date))
}

export function sleep (ms) {
  return new Promise(resolve => setTimeout(resolve, ms))
}

/** Calls fn at most once per `ms`, trailing call included. */
export function debounce (fn, ms) {
  let timer = null
  return (...args) => {
    clearTimeout(timer)
    timer = setTimeout(() => fn(...args), ms)
  }
}

/** What a page says when a request finds the session gone (signed out elsewhere, expired, revoked). */
export const SESSION_ENDED = 'Your session has ended. Please sign in again.'

/** The user's name as people should read it. */
export function displayName (user) {
  if (!user) return 'someone'
  return user.displayName || user.username
}

/**
 * Opens a modal <dialog> built by `build(close)`; it is removed from the page
 * when closed, so its fields never linger in the accessibility tree.
 */
export function openDialog (title, build) {
  const titleId = 'dlg-' + randomId().slice(0, 8)
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId })
  const close = () => { if (dialog.open) dialog.close() }
  dialog.append(
    h('div', { class: 'dialog-head' },
      h('h2', { id: titleId }, title),
      h('button', { type: 'button', class: 'icon', 'aria-label': 'Close', onclick: close }, '×')),
    build(close))
  dialog.addEventListener('close', () => dialog.remove())
  document.body.append(dialog)
  dialog.showModal()
  const first = dialog.querySelector('input, select, textarea, button:not(.icon)')
  if (first) first.focus()
  return dialog
}

/** Shows the first error message of a failed request next to a form. */
export function errorText (err) {
  if (err && err.fields && typeof err.fields === 'object') {
    const parts = Object.entries(err.fields).map(([field, what]) => `${field}: ${what}`)
    if (parts.length) return parts.join('; ')
  }
  return err && err.message ? err.message : 'Something went wrong'
}

/** localStorage that never throws (private modes, disabled storage): null / nothing instead. */
export const saved = {
  get (key) {
    try { return localStorage.getItem(key) } catch { return null }
  },
  set (key, value) {
    try { localStorage.setItem(key, value) } catch { /* not kept: fine */ }
  }
}
