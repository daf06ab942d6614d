// What every Apache the hosting tests start has in common: Debian's apache2 in
// the foreground, confined to a folder of the test's own.

/** Root in a container: Apache and Passenger then switch to www-data, which must reach the test's folders. */
export const isRoot = (): boolean => process.getuid?.() === 0

/**
 * The start of an httpd.conf: pid, logs, runtime files and mutexes in `dir`,
 * `ports` on loopback, the MPM and authorization modules plus `modules` (by
 * Debian's names: `proxy_http` is mod_proxy_http.so), and an unprivileged user
 * when we are root.
 */
export function apacheServerConfig (dir: string, ports: number[], modules: string[]): string {
  return [
    `ServerRoot ${dir}`,
    'ServerName 127.0.0.1',
    ...ports.map(port => `Listen 127.0.0.1:${port}`),
    `PidFile ${dir}/httpd.pid`,
    `ErrorLog ${dir}/error.log`,
    'LogLevel warn',
    `DefaultRuntimeDir ${dir}`,
    `Mutex file:${dir} default`,
    ...['mpm_event', 'authz_core', ...modules].map(name => `LoadModule ${name}_module /usr/lib/apache2/modules/mod_${name}.so`),
    ...(isRoot() ? ['User www-data', 'Group www-data'] : [])
  ].join('\n')
}
