import { h, timeEl, displayName } from '../ui.js'
import { markWords } from '../highlight.js'
import { roomLabel } from '../state.js'

// The search box (in the top bar) and its results: each shows the room, the
// author, the time and the text with the searched words marked; a click opens
// the message in its room. Result text is plain (no links): it sits inside a button.

/**
 * @param {object} o
 * @param {(q: string) => void} o.onSearch
 * @param {() => Promise<void>} o.onMore the next page of results
 * @param {(ev: object) => void} o.onOpen a result was picked
 * @param {() => void} o.onClose
 */
export function createSearch ({ onSearch, onMore, onOpen, onClose }) {
  const input = h('input', { type: 'search', id: 'search-q', maxlength: '200', autocomplete: 'off', placeholder: 'Search messages', enterkeyhint: 'search' })
  const form = h('form', { class: 'search-form', role: 'search' },
    h('label', { for: 'search-q', class: 'sr-only' }, 'Search messages'), input)
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    const q = input.value.trim()
    if (q) onSearch(q)
    else onClose()
  })

  const heading = h('h2', { id: 'search-title' })
  const status = h('p', { class: 'muted', role: 'status' })
  const list = h('ol', { class: 'search-results' })
  const moreButton = h('button', { type: 'button', class: 'link-button', hidden: true }, 'More results')
  moreButton.addEventListener('click', () => {
    moreButton.disabled = true
    onMore().finally(() => { moreButton.disabled = false })
  })
  const close = () => { onClose(); input.focus() }
  const panel = h('section', { class: 'search-panel', 'aria-labelledby': 'search-title', hidden: true },
    h('div', { class: 'dialog-head' }, heading,
      h('button', { type: 'button', class: 'icon', 'aria-label': 'Close search', onclick: close }, '×')),
    status, list, moreButton)
  panel.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.stopPropagation(); close() } })
  input.addEventListener('keydown', (e) => { if (e.key === 'Escape' && !panel.hidden) { e.preventDefault(); close() } })

  function result (state, ev, words) {
    const room = state.rooms[ev.roomId]
    const files = (ev.attachments || []).map(a => a.name).join(', ')
    return h('li', {},
      h('button', { type: 'button', class: 'search-result', onclick: () => onOpen(ev) },
        h('span', { class: 'meta' },
          h('span', { class: 'room-of' }, room ? roomLabel(state, room) : 'a room you left'), ' · ',
          h('span', { class: 'author' }, displayName(ev.user)), ' · ', timeEl(ev.createdAt)),
        h('span', { class: 'text' }, markWords(h('span', {}, ev.text || ''), words), files ? h('span', { class: 'muted' }, ` (files: ${files})`) : '')))
  }

  let last = null
  function render (state) {
    const search = state.search
    if (last && last.search === search && last.rooms === state.rooms) return
    last = state
    panel.hidden = search === null
    if (search === null) return
    heading.textContent = `Results for “${search.q}”`
    status.textContent = search.status === 'loading'
      ? 'Searching…'
      : search.status === 'failed' ? 'The search failed. Try again.' : search.events.length ? '' : 'Nothing found.'
    list.replaceChildren(...search.events.map(ev => result(state, ev, search.words)))
    moreButton.hidden = !(search.status === 'ready' && search.hasMore)
  }

  return { form, panel, render, focus: () => input.focus() }
}
