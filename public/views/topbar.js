import { h } from '../ui.js'
import { nameWithHandle } from '../state.js'

// The bar at the top: the phone menu button, the search box, the connection
// status, who is signed in, Administration (administrators only), Account and Sign out.

const STATUS_TEXT = { connected: 'Connected', reconnecting: 'Reconnecting…' }

/**
 * @param {object} o
 * @param {object} o.me
 * @param {() => void} o.onMenu
 * @param {() => void} o.onAccount
 * @param {() => void} o.onAdmin
 * @param {() => void} o.onSignOut
 * @param {Node} [o.search] the search box
 */
export function createTopbar ({ me, onMenu, onAccount, onAdmin, onSignOut, search = null }) {
  const adminButton = h('button', { type: 'button', hidden: true, onclick: onAdmin }, 'Administration')
  const status = h('div', { class: 'conn', role: 'status' })
  const menuButton = h('button', { type: 'button', class: 'menu-toggle', 'aria-controls': 'sidebar', 'aria-expanded': 'false', onclick: onMenu }, 'Menu')
  const element = h('header', { class: 'topbar' },
    menuButton,
    h('h1', {}, 'Chat'),
    search,
    status,
    h('span', { class: 'whoami' }, nameWithHandle(me)),
    adminButton,
    h('button', { type: 'button', onclick: onAccount }, 'Account'),
    h('button', { type: 'button', onclick: onSignOut }, 'Sign out'))

  function render (state) {
    const text = STATUS_TEXT[state.connection] || 'Connecting…'
    status.dataset.state = state.connection || 'connecting'
    if (status.textContent !== text) status.textContent = text
    adminButton.hidden = !state.admin
  }

  return { element, render, menuButton }
}
