/* global document, window, Notification */

// Desktop notifications for what state.notificationFor picks (direct messages
// and mentions), while this page is hidden. Only the tab that polls calls it,
// so one browser shows each message once. Permission is asked for only from a
// click ("Enable notifications"): browsers ignore or punish asking unprompted.

export function notificationsAllowed () {
  return typeof Notification === 'function' && Notification.permission === 'granted'
}

/** @param {{title: string, body: string, tag: string}} note  @param {() => void} open */
export function showNotification (note, open) {
  if (!notificationsAllowed() || document.visibilityState !== 'hidden') return
  try {
    const n = new Notification(note.title, { body: note.body, tag: note.tag })
    n.onclick = () => { window.focus(); open(); n.close() }
  } catch { /* some browsers only allow notifications from a service worker */ }
}

/** Asks the browser for permission; resolves to the answer ('granted', 'denied', 'default'). */
export async function askPermission () {
  if (typeof Notification !== 'function') return 'denied'
  return await Notification.requestPermission()
}
