import { h } from '../ui.js'
import { currentRoom, roomLabel } from '../state.js'

// The open room's title with its Members and Leave buttons, after the
// buttons other views own (`actions`: elements they show and hide themselves).

/**
 * @param {object} o
 * @param {() => void} o.onToggleMembers
 * @param {() => void} o.onLeave
 * @param {Element[]} [o.actions]
 */
export function createRoomHead ({ onToggleMembers, onLeave, actions = [] }) {
  const title = h('h2', { id: 'room-title', class: 'room-title' }, '')
  const membersButton = h('button', { type: 'button', 'aria-controls': 'members', 'aria-expanded': 'false', onclick: onToggleMembers }, 'Members')
  const leaveButton = h('button', { type: 'button', onclick: onLeave }, 'Leave')
  const element = h('header', { class: 'room-head' }, title, h('div', { class: 'room-actions' }, ...actions, membersButton, leaveButton))

  function render (state) {
    const room = currentRoom(state)
    const text = room ? roomLabel(state, room) : 'No room open'
    if (title.textContent !== text) title.textContent = text
    leaveButton.hidden = !room || room.kind === 'direct'
    membersButton.hidden = !room
  }

  return { element, render, membersButton }
}
