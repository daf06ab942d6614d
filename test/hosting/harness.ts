import http from 'node:http'
import https from 'node:https'
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTestDatabase } from '../helpers/database.js'
import { freePort, startServerProcess, type ServerProcess } from '../helpers/server-process.js'

/** Shared by the hosting tests: a raw HTTP client, the app, and real nginx and Apache in front of it. */

export const projectRoot = fileURLToPath(new URL('../../', import.meta.url))

interface Teardown { teardown (fn: () => unknown): void }

export interface Answer {
  status: number
  headers: http.IncomingHttpHeaders
  text: string
  json: any
}

export interface RequestOptions {
  method?: string
  headers?: Record<string, string>
  /** A string is sent as is; anything else as JSON. */
  body?: unknown
  /** Source address, to look like another client: any 127.x.y.z works on Linux loopback. */
  localAddress?: string
  /** Talk to a unix socket instead of the URL's host and port. */
  socketPath?: string
  timeoutMs?: number
}

/**
 * A plain request with nothing added: no Origin, no cookies, no keep-alive.
 * fetch() cannot choose its source address or a unix socket, and the tests need both.
 */
export async function request (url: string, options: RequestOptions = {}): Promise<Answer> {
  const target = new URL(url)
  const headers: Record<string, string> = { ...options.headers }
  let payload: string | undefined
  if (typeof options.body === 'string') {
    payload = options.body
  } else if (options.body !== undefined) {
    payload = JSON.stringify(options.body)
    headers['content-type'] ??= 'application/json'
  }
  if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload))
  const lib = target.protocol === 'https:' ? https : http
  return await new Promise<Answer>((resolve, reject) => {
    const req = lib.request({
      method: options.method ?? (payload === undefined ? 'GET' : 'POST'),
      host: target.hostname,
      port: target.port,
      path: target.pathname + target.search,
      headers,
      agent: false,
      // The proxies' certificate is a throwaway self-signed one.
      rejectUnauthorized: false,
      ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
      ...(options.socketPath !== undefined ? { socketPath: options.socketPath } : {})
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let json: unknown
        try { json = JSON.parse(text) } catch { json = undefined }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json })
      })
    })
    req.setTimeout(options.timeoutMs ?? 30000, () => req.destroy(new Error(`timed out: ${url}`)))
    req.on('error', reject)
    req.end(payload)
  })
}

/** `name=value` of the session cookie the answer set, to send back as a Cookie header. */
export function sessionCookie (answer: Answer): string {
  const set = answer.headers['set-cookie']?.[0]
  if (set === undefined) throw new Error(`no Set-Cookie in ${answer.status} ${answer.text}`)
  return set.split(';')[0] ?? ''
}

export const SESSION_SECRET = 'hosting-tests-secret-of-at-least-32-characters'

/** The app as a real process under /chat, with a database of its own. */
export async function startApp (t: Teardown, env: Record<string, string> = {}): Promise<ServerProcess> {
  const db = await createTestDatabase(t)
  return await startServerProcess(t, {
    DATABASE_URL: db.databaseUrl,
    DATA_DIR: db.dataDir,
    SESSION_SECRET,
    ...env
  // A generous start-up time: on a busy 2-core machine tsx compiles the server for tens of seconds.
  }, { basePath: '/chat', timeoutMs: 60000 })
}

export interface Proxy {
  name: 'nginx' | 'apache'
  /** http://127.0.0.1:PORT/chat */
  url: string
  /** https://127.0.0.1:PORT/chat */
  httpsUrl: string
  origin: string
  log: () => string
}

/** The snippet from deploy/ with its example upstream replaced by the test app's port. */
export function deploySnippet (file: string, appPort: number): string {
  const text = readFileSync(join(projectRoot, 'deploy', file), 'utf8')
  if (!text.includes('127.0.0.1:3000')) throw new Error(`deploy/${file} no longer names 127.0.0.1:3000`)
  return text.replaceAll('127.0.0.1:3000', `127.0.0.1:${appPort}`)
}

function workDir (t: Teardown, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  // Worker processes run as an unprivileged user when we are root; they must
  // reach their temp folders inside this one.
  chmodSync(dir, 0o755)
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function selfSignedCertificate (dir: string): { cert: string, key: string } {
  const cert = join(dir, 'cert.pem')
  const key = join(dir, 'key.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' })
  return { cert, key }
}

const isRoot = (): boolean => process.getuid?.() === 0

/** Debian's nginx in the foreground, with deploy/nginx-chat.conf inside a server block. */
export async function startNginx (t: Teardown, appPort: number): Promise<Proxy> {
  const dir = workDir(t, 'chat-nginx-')
  const [httpPort, httpsPort] = [await freePort(), await freePort()]
  const { cert, key } = selfSignedCertificate(dir)
  writeFileSync(join(dir, 'chat.conf'), deploySnippet('nginx-chat.conf', appPort))
  const temp = (name: string): string => join(dir, name)
  writeFileSync(join(dir, 'nginx.conf'), `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${temp('client_body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  server {
    listen 127.0.0.1:${httpPort};
    listen 127.0.0.1:${httpsPort} ssl;
    server_name localhost;
    ssl_certificate ${cert};
    ssl_certificate_key ${key};
    include ${dir}/chat.conf;
  }
}
`)
  const child = spawn('nginx', ['-e', join(dir, 'error.log'), '-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  return await proxyUp(t, 'nginx', child, dir, httpPort, httpsPort)
}

/** Debian's Apache in the foreground, with deploy/apache-chat.conf inside two virtual hosts. */
export async function startApache (t: Teardown, appPort: number): Promise<Proxy> {
  const dir = workDir(t, 'chat-apache-')
  const [httpPort, httpsPort] = [await freePort(), await freePort()]
  const { cert, key } = selfSignedCertificate(dir)
  writeFileSync(join(dir, 'chat.conf'), deploySnippet('apache-chat.conf', appPort))
  const mod = (name: string, file: string): string => `LoadModule ${name} /usr/lib/apache2/modules/${file}`
  writeFileSync(join(dir, 'httpd.conf'), `
ServerRoot ${dir}
ServerName 127.0.0.1
Listen 127.0.0.1:${httpPort}
Listen 127.0.0.1:${httpsPort}
PidFile ${dir}/httpd.pid
ErrorLog ${dir}/error.log
LogLevel warn
DefaultRuntimeDir ${dir}
Mutex file:${dir} default
${mod('mpm_event_module', 'mod_mpm_event.so')}
${mod('authz_core_module', 'mod_authz_core.so')}
${mod('proxy_module', 'mod_proxy.so')}
${mod('proxy_http_module', 'mod_proxy_http.so')}
${mod('headers_module', 'mod_headers.so')}
${mod('socache_shmcb_module', 'mod_socache_shmcb.so')}
${mod('ssl_module', 'mod_ssl.so')}
${isRoot() ? 'User www-data\nGroup www-data' : ''}
<VirtualHost 127.0.0.1:${httpPort}>
  Include ${dir}/chat.conf
</VirtualHost>
<VirtualHost 127.0.0.1:${httpsPort}>
  SSLEngine on
  SSLCertificateFile ${cert}
  SSLCertificateKeyFile ${key}
  Include ${dir}/chat.conf
</VirtualHost>
`)
  const child = spawn('apache2', ['-DFOREGROUND', '-f', join(dir, 'httpd.conf')], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  return await proxyUp(t, 'apache', child, dir, httpPort, httpsPort)
}

async function proxyUp (
  t: Teardown, name: Proxy['name'], child: ChildProcess, dir: string, httpPort: number, httpsPort: number
): Promise<Proxy> {
  let out = ''
  let failed: Error | undefined
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { out += d.toString() })
  // ENOENT when the proxy is not installed: say how to get it.
  child.once('error', (err) => { failed = err })
  const exited = new Promise<void>(resolve => {
    child.once('exit', () => resolve())
    child.once('error', () => resolve())
  })
  t.teardown(async () => {
    if (failed === undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
  })
  const errorLog = join(dir, 'error.log')
  const log = (): string => out + (existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : '')
  const origin = `http://127.0.0.1:${httpPort}`
  const proxy = { name, url: `${origin}/chat`, httpsUrl: `https://127.0.0.1:${httpsPort}/chat`, origin, log }
  const deadline = Date.now() + 15000
  for (;;) {
    if (failed !== undefined) throw new Error(`${name} could not be started (${failed.message}); run .ci/install-proxies.sh`)
    if (child.exitCode !== null) throw new Error(`${name} exited early (${child.exitCode}):\n${log()}`)
    try {
      const res = await request(`${proxy.url}/api/health`, { timeoutMs: 2000 })
      if (res.status === 200) return proxy
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`${name} did not come up:\n${log()}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}
