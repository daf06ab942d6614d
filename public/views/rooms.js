/* global document, CSS */
import { h } from '../ui.js'
import { roomLabel, sortedRooms } from '../state.js'

// The sidebar: channels and direct rooms with their unread counts (unread
// mentions apart), muted rooms marked, and the
// buttons that open the room dialogs. Links change the location hash; the
// page opens the room from there.

/**
 * @param {object} o
 * @param {() => void} o.onNewRoom
 * @param {() => void} o.onBrowse
 * @param {() => void} o.onDirect
 */
export function createRoomList ({ onNewRoom, onBrowse, onDirect }) {
  const channels = h('ul', { class: 'room-list', 'aria-labelledby': 'channels-heading' })
  const direct = h('ul', { class: 'room-list', 'aria-labelledby': 'direct-heading' })
  const element = h('nav', { id: 'sidebar', class: 'sidebar', 'aria-label': 'Rooms' },
    h('div', { class: 'section-head' },
      h('h2', { id: 'channels-heading' }, 'Channels'),
      h('button', { type: 'button', class: 'small', onclick: onNewRoom }, 'New room')),
    channels,
    h('button', { type: 'button', class: 'link-button', onclick: onBrowse }, 'Browse channels'),
    h('div', { class: 'section-head' },
      h('h2', { id: 'direct-heading' }, 'Direct'),
      h('button', { type: 'button', class: 'small', onclick: onDirect }, 'New direct chat')),
    direct)

  let last = null
  function render (state) {
    const prev = last
    last = state
    if (prev && prev.rooms === state.rooms && prev.roomId === state.roomId && prev.directNames === state.directNames && prev.muted === state.muted) return
    const active = document.activeElement
    const focusedId = active && active.dataset ? active.dataset.roomId : undefined
    const item = (room) => h('li', {}, h('a', {
      href: '#/rooms/' + encodeURIComponent(room.id),
      class: 'room-link' + (room.unread ? ' has-unread' : '') + (state.muted[room.id] ? ' muted-room' : ''),
      dataset: { roomId: room.id },
      'aria-current': room.id === state.roomId ? 'page' : null
    },
    h('span', { class: 'room-name' }, roomLabel(state, room)),
    room.visibility === 'private' && room.kind !== 'direct' ? h('span', { class: 'tag' }, 'private') : null,
    state.muted[room.id] ? h('span', { class: 'tag' }, 'muted') : null,
    room.mentions ? h('span', { class: 'badge mention-badge' }, '@' + room.mentions, h('span', { class: 'sr-only' }, ' mentions')) : null,
    room.unread ? h('span', { class: 'badge' }, String(room.unread), h('span', { class: 'sr-only' }, ' unread')) : null))
    const sorted = sortedRooms(state)
    channels.replaceChildren(...sorted.filter(r => r.kind !== 'direct').map(item))
    direct.replaceChildren(...sorted.filter(r => r.kind === 'direct').map(item))
    if (!channels.children.length) channels.append(h('li', { class: 'muted' }, 'No channels yet'))
    if (focusedId) {
      const again = element.querySelector(`[data-room-id="${CSS.escape(focusedId)}"]`)
      if (again) again.focus()
    }
  }

  /** Puts the focus on the open room's link (or the first control), for the phone menu. */
  function focusCurrent () {
    const current = element.querySelector('[aria-current="page"]') || element.querySelector('a, button')
    if (current) current.focus()
  }

  return { element, render, focusCurrent }
}
