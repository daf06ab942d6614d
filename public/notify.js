/* global document, window, Notification */
import { nameWithHandle } from './state.js'

// A desktop notification for a direct message, when the user allowed them and
// is not looking at that room. Only the tab that polls calls it, so one
// browser shows each message once.

export function notifyDirectMessage (ev, { looking, open }) {
  if (typeof Notification !== 'function' || Notification.permission !== 'granted') return
  if (document.visibilityState === 'visible' && looking) return
  try {
    const n = new Notification(nameWithHandle(ev.user), { body: String(ev.text || '').slice(0, 200), tag: 'chat-' + ev.id })
    n.onclick = () => { window.focus(); open(); n.close() }
  } catch { /* some browsers only allow notifications from a service worker */ }
}
