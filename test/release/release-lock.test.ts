import t from 'tap'
// @ts-expect-error: a plain-JS build script without types
import { releaseLock } from '../../scripts/release.js'

// The release's lock file must be one `npm ci --omit=dev` accepts on a host.
t.test('releaseLock drops dev packages and links into them, keeps the rest as tested', async t => {
  const lock = {
    lockfileVersion: 3,
    packages: {
      '': { name: 'app', dependencies: { a: '^1.0.0' }, devDependencies: { big: '^2.0.0' } },
      'node_modules/a': { version: '1.0.0', integrity: 'sha512-a' },
      'node_modules/big': { version: '2.0.0', dev: true },
      'node_modules/big/src/log': { version: '2.0.0', dev: true },
      // A workspace link of a dev package: npm gives it no dev mark.
      'node_modules/@big/log': { resolved: 'node_modules/big/src/log', link: true },
      'node_modules/a/inner': { version: '1.0.0' },
      'node_modules/@a/inner': { resolved: 'node_modules/a/inner', link: true }
    }
  }
  const released = releaseLock(lock) as { packages: Record<string, Record<string, unknown>> }
  t.same(Object.keys(released.packages).sort(), ['', 'node_modules/@a/inner', 'node_modules/a', 'node_modules/a/inner'])
  t.same(released.packages[''], { name: 'app', dependencies: { a: '^1.0.0' } }, 'the root names no dev dependencies')
  t.same(released.packages['node_modules/a'], { version: '1.0.0', integrity: 'sha512-a' }, 'kept entries unchanged')
})
