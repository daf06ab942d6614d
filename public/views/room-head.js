import { h } from '../ui.js'
import { currentRoom, roomLabel, mayAct } from '../state.js'

// The open room's title and topic with its Members, Mute, Manage (moderators
// and owners only) and Leave buttons, after the buttons other views own
// (`actions`: elements they show and hide themselves).

/**
 * @param {object} o
 * @param {() => void} o.onToggleMembers
 * @param {() => void} o.onLeave
 * @param {() => void} o.onMute
 * @param {() => void} o.onManage
 * @param {Element[]} [o.actions]
 */
export function createRoomHead ({ onToggleMembers, onLeave, onMute, onManage, actions = [] }) {
  const title = h('h2', { id: 'room-title', class: 'room-title' }, '')
  const topic = h('p', { class: 'room-topic' })
  const muteButton = h('button', { type: 'button', 'aria-pressed': 'false', onclick: onMute }, 'Mute')
  const manageButton = h('button', { type: 'button', onclick: onManage }, 'Manage room')
  const membersButton = h('button', { type: 'button', 'aria-controls': 'members', 'aria-expanded': 'false', onclick: onToggleMembers }, 'Members')
  const leaveButton = h('button', { type: 'button', onclick: onLeave }, 'Leave')
  const element = h('header', { class: 'room-head' }, h('div', { class: 'room-heading' }, title, topic),
    h('div', { class: 'room-actions' }, ...actions, membersButton, muteButton, manageButton, leaveButton))

  function render (state) {
    const room = currentRoom(state)
    const text = room ? roomLabel(state, room) : 'No room open'
    if (title.textContent !== text) title.textContent = text
    leaveButton.hidden = !room || room.kind === 'direct'
    membersButton.hidden = !room
    muteButton.hidden = !room
    const muted = Boolean(room && state.muted[room.id])
    muteButton.setAttribute('aria-pressed', String(muted))
    muteButton.textContent = muted ? 'Unmute' : 'Mute'
    manageButton.hidden = !mayAct(state, 'moderator')
    const topicText = (room && room.topic) || ''
    if (topic.textContent !== topicText) topic.textContent = topicText
    topic.hidden = !topicText
  }

  return { element, render, membersButton }
}
