/* global setTimeout */
import { h, linkify, timeEl, displayName } from '../ui.js'
import { markWords } from '../highlight.js'
import { attachmentsEl } from './attachments.js'
import { mayAct, mentionsMe } from '../state.js'

// The open room's messages: confirmed ones in id order, then our own on their
// way (with Retry and Discard when they failed). Rendered from the state by
// key, so an element is rebuilt only when its message changed, and a message
// being edited keeps its form. Messages that mention us stand out; moderators
// may delete anyone's.

const NEAR_BOTTOM_PX = 80

/**
 * @param {object} o
 * @param {() => Promise<void>} o.onNearTop load older messages
 * @param {() => Promise<void>} o.onNearBottom load newer messages (after a jump to an older one)
 * @param {() => void} o.onScroll
 * @param {(id: string, text: string) => Promise<void>} o.onEdit
 * @param {(id: string) => Promise<void>} o.onDelete
 * @param {(clientId: string) => void} o.onRetry
 * @param {(clientId: string) => void} o.onDiscard
 */
export function createLog ({ onNearTop, onNearBottom, onScroll, onEdit, onDelete, onRetry, onDiscard }) {
  let loadingOlder = false
  const loadOlder = () => {
    if (loadingOlder || !last || !last.hasMore) return
    loadingOlder = true
    olderButton.textContent = 'Loading…'
    onNearTop().finally(() => {
      loadingOlder = false
      olderButton.textContent = 'Load older'
    })
  }
  const olderButton = h('button', { type: 'button', class: 'older link-button', hidden: true, onclick: loadOlder }, 'Load older')
  let loadingNewer = false
  const loadNewer = () => {
    if (loadingNewer || !last || !last.newer || last.history !== 'ready') return
    loadingNewer = true
    onNearBottom().finally(() => { loadingNewer = false })
  }
  const newerButton = h('button', { type: 'button', class: 'newer link-button', hidden: true, onclick: loadNewer }, 'Load newer')
  const list = h('ol', { class: 'messages' })
  const empty = h('p', { class: 'empty' }, '')
  const element = h('div', { class: 'log', role: 'log', 'aria-labelledby': 'room-title', tabindex: '0' }, olderButton, empty, list, newerButton)
  element.addEventListener('scroll', () => {
    if (element.scrollTop < 80) loadOlder()
    if (atBottom()) loadNewer()
    onScroll()
  }, { passive: true })

  /** key → {li, item}: what each element was last filled from. */
  const shown = new Map()
  let editing = null
  let last = null
  /** The focus (a message jumped to) the log last scrolled to. */
  let scrolledTo = null

  const atBottom = () => element.scrollHeight - element.scrollTop - element.clientHeight < NEAR_BOTTOM_PX
  const scrollToBottom = () => { element.scrollTop = element.scrollHeight }

  function fill (li, m, pending, state) {
    const own = Boolean(m.user && m.user.id === state.me.id)
    const focus = state.focus
    const focused = Boolean(focus && !pending && focus.id === m.id)
    li.className = 'msg' + (own ? ' own' : '') + (pending ? ' pending ' + pending.state : ' confirmed') +
      (mentionsMe(state, m) ? ' mention' : '') + (focused ? ' focus' : '')
    const meta = h('div', { class: 'meta' }, h('span', { class: 'author' }, displayName(m.user)))
    if (m.user && m.user.username && displayName(m.user) !== m.user.username) meta.append(' ', h('span', { class: 'handle' }, '@' + m.user.username))
    meta.append(' ', timeEl(m.createdAt))
    if (m.editedAt) meta.append(' ', h('span', { class: 'edited' }, '(edited)'))
    if (pending) {
      const label = pending.state === 'failed'
        ? `Not sent: ${pending.error}`
        : pending.state === 'retrying' ? 'Not sent yet, retrying…' : 'Sending…'
      meta.append(' ', h('span', { class: 'state' }, label))
    }
    const text = linkify(m.text || '')
    const parts = [meta, h('div', { class: 'text' }, focused ? markWords(text, focus.words) : text)]
    if (m.attachments && m.attachments.length) parts.push(attachmentsEl(m.attachments))
    if (pending && pending.state === 'failed') {
      parts.push(h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'small', onclick: () => onRetry(pending.clientId) }, 'Retry'),
        h('button', { type: 'button', class: 'small', onclick: () => onDiscard(pending.clientId) }, 'Discard')))
    } else if (own && !pending) {
      parts.push(h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'small', onclick: () => startEdit(li, m) }, 'Edit'),
        h('button', { type: 'button', class: 'small', onclick: (e) => armDelete(m.id, e.currentTarget) }, 'Delete')))
    } else if (!pending && mayAct(state, 'moderator')) {
      parts.push(h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'small', onclick: (e) => armDelete(m.id, e.currentTarget) }, 'Delete')))
    }
    li.replaceChildren(...parts)
  }

  function refill (id) {
    const entry = shown.get('m' + id)
    if (entry && last) fill(entry.li, entry.item, null, last)
  }

  function startEdit (li, m) {
    editing = m.id
    const fieldId = 'edit-' + m.id
    const area = h('textarea', { id: fieldId, rows: '2' })
    area.value = m.text
    const stop = () => { editing = null; refill(m.id) }
    const save = async () => {
      if (!area.value.trim()) return
      await onEdit(m.id, area.value)
      stop()
    }
    const form = h('form', { class: 'edit-form' },
      h('label', { for: fieldId, class: 'sr-only' }, 'Edited text'),
      area,
      h('div', { class: 'row' },
        h('button', { type: 'submit', class: 'small primary' }, 'Save'),
        h('button', { type: 'button', class: 'small', onclick: stop }, 'Cancel')))
    form.addEventListener('submit', (e) => { e.preventDefault(); save() })
    area.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); save() }
      if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); stop() }
    })
    li.querySelector('.text').replaceWith(form)
    const actions = li.querySelector('.actions')
    if (actions) actions.remove()
    area.focus()
  }

  function armDelete (id, button) {
    // Two steps, without a blocking confirm(): the first click arms the button.
    if (button.dataset.armed !== '1') {
      button.dataset.armed = '1'
      button.textContent = 'Confirm delete'
      setTimeout(() => {
        if (button.isConnected) { button.dataset.armed = ''; button.textContent = 'Delete' }
      }, 4000)
      return
    }
    onDelete(id)
  }

  function emptyText (state) {
    if (state.roomId === null) {
      return Object.keys(state.rooms).length
        ? 'Pick a room.'
        : 'You are in no room yet: create one with “New room” or use “Browse channels”.'
    }
    if (state.history === 'loading') return 'Loading…'
    if (state.history === 'failed') return 'Could not load messages.'
    return 'No messages yet. Say hello!'
  }

  function render (state) {
    const prev = last
    last = state
    const roomChanged = !prev || prev.roomId !== state.roomId
    // Becoming (or ceasing to be) a moderator changes every message's buttons.
    const moderator = mayAct(state, 'moderator')
    const rolesChanged = !prev || moderator !== mayAct(prev, 'moderator')
    if (!roomChanged && !rolesChanged && prev.messages === state.messages && prev.outbox === state.outbox &&
        prev.hasMore === state.hasMore && prev.history === state.history && prev.rooms === state.rooms &&
        prev.focus === state.focus && prev.newer === state.newer) return
    if (roomChanged) editing = null
    const focusId = state.focus ? state.focus.id : null
    const stick = roomChanged || atBottom() || shown.size === 0
    const height = element.scrollHeight
    const top = element.scrollTop
    const firstBefore = list.firstElementChild

    const items = state.messages.map(m => ({ key: 'm' + m.id, item: m, pending: null }))
    for (const p of state.outbox) {
      if (p.roomId === state.roomId) {
        items.push({ key: 'p' + p.clientId, item: { id: null, user: state.me, createdAt: p.createdAt, text: p.text, editedAt: null }, pending: p })
      }
    }
    let ownAdded = false
    const keep = new Set()
    let cursor = list.firstElementChild
    for (const { key, item, pending } of items) {
      keep.add(key)
      let entry = shown.get(key)
      if (!entry) {
        const li = h('li', {})
        if (pending) {
          li.dataset.pending = '1'
          li.dataset.clientId = pending.clientId
        } else {
          li.dataset.id = item.id
        }
        entry = { li, item: null, pending: null }
        shown.set(key, entry)
        if (item.user && item.user.id === state.me.id) ownAdded = true
      }
      const focused = !pending && item.id === focusId
      const changed = rolesChanged || entry.item !== (pending ?? item) || entry.focus !== (focused ? state.focus : null)
      if (changed && !(editing !== null && item.id === editing && entry.item !== null)) {
        fill(entry.li, item, pending, state)
        entry.focus = focused ? state.focus : null
      }
      if (!pending) entry.item = item
      else entry.item = pending
      if (entry.li !== cursor) list.insertBefore(entry.li, cursor)
      else cursor = cursor.nextElementSibling
    }
    for (const [key, entry] of shown) {
      if (!keep.has(key)) {
        entry.li.remove()
        shown.delete(key)
        if (key === 'm' + editing) editing = null
      }
    }

    olderButton.hidden = !state.hasMore
    newerButton.hidden = !state.newer || state.history !== 'ready'
    empty.textContent = emptyText(state)
    empty.hidden = state.roomId !== null && state.history !== 'loading' && state.history !== 'failed' && list.children.length > 0
    const target = state.focus && state.focus !== scrolledTo && shown.get('m' + focusId)
    if (target) {
      // Once per jump: afterwards the reader scrolls where they like.
      scrolledTo = state.focus
      target.li.scrollIntoView({ block: 'center' })
    } else if (stick || ownAdded) scrollToBottom()
    else if (firstBefore && list.firstElementChild !== firstBefore) element.scrollTop = top + (element.scrollHeight - height)
  }

  return { element, render, atBottom }
}
