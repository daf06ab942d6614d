/* global window, setTimeout */
import { h } from '../ui.js'

// The screen's frame: top bar, the room list, the open room (head, log,
// typing line, uploads, composer; files dropped or pasted on it are shared),
// the member list, the search results, with the phone-sized overlays for
// the room list and the members, and short notices ("toasts"). It places the
// views' elements; what is inside them is theirs.

export function createLayout ({ topbar, rooms, head, log, composer, members, files, search }) {
  const roomPane = h('main', { class: 'room' }, head.element, log.element, composer.typingLine, files.list, composer.form)
  files.acceptFilesOn(roomPane)
  const toasts = h('div', { class: 'toasts', 'aria-live': 'polite' })
  const element = h('div', { class: 'chat' },
    topbar.element, h('div', { class: 'panes' }, rooms.element, roomPane, members.element, search.panel), toasts)
  const shows = (what) => element.classList.contains(what)

  function toggleSidebar (open = !shows('show-rooms')) {
    element.classList.toggle('show-rooms', open)
    topbar.menuButton.setAttribute('aria-expanded', String(open))
    if (open) rooms.focusCurrent()
  }
  function toggleMembers (open = !shows('show-members')) {
    element.classList.toggle('show-members', open)
    head.membersButton.setAttribute('aria-expanded', String(open))
  }

  // On a phone the room list is an overlay: a tap beside it or Escape closes it.
  roomPane.addEventListener('click', () => { if (shows('show-rooms')) toggleSidebar(false) })
  element.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && shows('show-rooms')) {
      toggleSidebar(false)
      topbar.menuButton.focus()
    }
  })
  // Members sit beside the log on wide screens; on narrow ones they are an overlay, closed by default.
  const wide = window.matchMedia('(min-width: 1100px)')
  const onWidth = () => {
    toggleMembers(wide.matches)
    if (wide.matches) toggleSidebar(false)
  }
  wide.addEventListener('change', onWidth)
  toggleMembers(wide.matches)

  return {
    element,
    toggleSidebar,
    toggleMembers,
    /** Closes the phone's room list; true when it was open. */
    closeSidebar () {
      if (!shows('show-rooms')) return false
      toggleSidebar(false)
      return true
    },
    flash (text) {
      const note = h('p', { class: 'toast' }, text)
      toasts.append(note)
      setTimeout(() => note.remove(), 6000)
    },
    destroy () { wide.removeEventListener('change', onWidth) }
  }
}
