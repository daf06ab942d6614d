import { h, displayName } from '../ui.js'
import { currentRoom, memberPresence } from '../state.js'

// The open room's members, online first, with their role, and the form that
// adds someone. Members are away after a while without input in any of their tabs (the server
// hears it from their polls); we show so at once from our own idle verdict.

/**
 * @param {object} o
 * @param {(username: string) => Promise<boolean>} o.onAdd resolves true when the person was added
 */
export function createMembers ({ onAdd }) {
  const list = h('ul', { class: 'member-list' })
  const title = h('h2', { id: 'members-title' }, 'Members')
  const input = h('input', { id: 'add-member-name', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', required: true })
  const form = h('form', { class: 'add-member' },
    h('label', { for: 'add-member-name' }, 'Invite by name'),
    h('div', { class: 'row' }, input, h('button', { type: 'submit' }, 'Add')))
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    const name = input.value.trim()
    if (name && await onAdd(name)) input.value = ''
  })
  const element = h('aside', { id: 'members', class: 'members', 'aria-labelledby': 'members-title' }, title, list, form)

  let last = null
  function render (state) {
    const prev = last
    last = state
    if (prev && prev.members === state.members && prev.roomId === state.roomId && prev.rooms === state.rooms && prev.away === state.away) return
    const room = currentRoom(state)
    form.hidden = !room || room.kind === 'direct'
    const sorted = [...state.members].sort((a, b) =>
      (b.online === true) - (a.online === true) || displayName(a).localeCompare(displayName(b)))
    const online = sorted.filter(m => m.online).length
    title.textContent = sorted.length ? `Members (${sorted.length}, ${online} online)` : 'Members'
    const presence = (m) => memberPresence(state, m)
    list.replaceChildren(...sorted.map(m => h('li', { class: presence(m) },
      h('span', { class: 'dot', 'aria-hidden': 'true' }),
      h('span', { class: 'member-name' }, displayName(m)),
      displayName(m) !== m.username ? h('span', { class: 'muted' }, ' @' + m.username) : null,
      m.id === state.me.id ? h('span', { class: 'muted' }, ' (you)') : null,
      m.role && m.role !== 'member' ? h('span', { class: 'tag' }, m.role) : null,
      h('span', { class: 'presence' }, ' ' + presence(m)))))
  }

  return { element, render }
}
