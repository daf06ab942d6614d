// xhr2 ships no types: its default export is an XMLHttpRequest class for Node.
declare module 'xhr2' {
  const XMLHttpRequest: unknown
  export default XMLHttpRequest
}
