/* global window, document, setInterval, clearInterval, localStorage */

// Away after AWAY_AFTER_MS without input in ANY tab of this browser: each tab
// writes the time of its latest input to localStorage (at most every few
// seconds) and judges by the newest time any tab wrote.

export const AWAY_AFTER_MS = 5 * 60 * 1000
const KEY = 'chat:lastInput'
const WRITE_EVERY_MS = 5000
const CHECK_EVERY_MS = 15000
const INPUTS = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart', 'focus']

function stored () {
  try { return Number(localStorage.getItem(KEY)) || 0 } catch { return 0 }
}

/** Whether nobody has touched any tab for AWAY_AFTER_MS. */
export function isAway (lastInput, now) {
  return now - lastInput >= AWAY_AFTER_MS
}

/** Calls onChange(away) whenever the verdict changes; returns a stop function. */
export function watchIdle (onChange) {
  let mine = Date.now()
  let written = 0
  let away = null
  const check = () => {
    const now = Date.now()
    const next = isAway(Math.max(mine, stored()), now)
    if (next !== away) { away = next; onChange(next) }
  }
  const input = () => {
    mine = Date.now()
    if (mine - written >= WRITE_EVERY_MS) {
      written = mine
      try { localStorage.setItem(KEY, String(mine)) } catch { /* this tab alone then */ }
    }
    if (away) check()
  }
  const onVisible = () => { if (document.visibilityState === 'visible') input() }
  const onStorage = (e) => { if (e.key === KEY) check() }
  for (const type of INPUTS) window.addEventListener(type, input, { passive: true, capture: true })
  document.addEventListener('visibilitychange', onVisible)
  window.addEventListener('storage', onStorage)
  input()
  check()
  const timer = setInterval(check, CHECK_EVERY_MS)
  return () => {
    clearInterval(timer)
    for (const type of INPUTS) window.removeEventListener(type, input, { capture: true })
    document.removeEventListener('visibilitychange', onVisible)
    window.removeEventListener('storage', onStorage)
  }
}
