'use strict'
// Startup file for Phusion Passenger (cPanel "Setup Node.js App", Plesk
// "Node.js"). Set the application startup file to app.cjs, not the default
// app.js: Passenger's loader require()s this file, package.json says
// "type": "module", and require() of an ES module fails on the Node versions
// these hosts offer. A .cjs file is always CommonJS, and import() works from
// it, so this file only loads the built server (npm run build makes dist/).
// The server notices Passenger itself (src/hosting/passenger.ts).
import('./dist/server.js').catch((err) => {
  // Passenger shows stderr in its log and on its error page; say what to do.
  console.error('Could not start dist/server.js. Was "npm run build" run in this folder?')
  console.error(err)
  process.exit(1)
})
