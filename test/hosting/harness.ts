import http from 'node:http'
import https from 'node:https'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTestDatabase } from '../helpers/database.js'
import { freePort, spawnChild, startServerProcess, untilReady, workFolder, type ChildHandle, type ServerProcess } from '../helpers/server-process.js'
import { apacheServerConfig } from './apache-config.js'

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

/** Worker processes run as an unprivileged user when we are root; they must reach their temp folders inside this one. */
function workDir (t: Teardown, prefix: string): string {
  return workFolder(t, prefix, 0o755)
}

function selfSignedCertificate (dir: string): { cert: string, key: string } {
  const cert = join(dir, 'cert.pem')
  const key = join(dir, 'key.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' })
  return { cert, key }
}

/**
 * Debian's nginx in the foreground, with deploy/nginx-chat.conf inside a server block.
 * `keepAliveUpstream`: nginx keeps its connections to the app open and sends
 * every kind of request over them (an upstream block with `keepalive`).
 */
export async function startNginx (t: Teardown, appPort: number, options: { keepAliveUpstream?: boolean } = {}): Promise<Proxy> {
  const dir = workDir(t, 'chat-nginx-')
  const [httpPort, httpsPort] = [await freePort(), await freePort()]
  const { cert, key } = selfSignedCertificate(dir)
  let snippet = deploySnippet('nginx-chat.conf', appPort)
  let upstream = ''
  if (options.keepAliveUpstream === true) {
    snippet = snippet.replace(`proxy_pass http://127.0.0.1:${appPort};`, 'proxy_pass http://chat_app;\n    proxy_set_header Connection "";')
    upstream = `upstream chat_app { server 127.0.0.1:${appPort}; keepalive 16; }`
  }
  writeFileSync(join(dir, 'chat.conf'), snippet)
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
  ${upstream}
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
  const nginx = spawnChild(t, 'nginx', ['-e', join(dir, 'error.log'), '-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'])
  return await proxyUp('nginx', nginx, dir, httpPort, httpsPort)
}

/** Debian's Apache in the foreground, with deploy/apache-chat.conf inside two virtual hosts. */
export async function startApache (t: Teardown, appPort: number): Promise<Proxy> {
  const dir = workDir(t, 'chat-apache-')
  const [httpPort, httpsPort] = [await freePort(), await freePort()]
  const { cert, key } = selfSignedCertificate(dir)
  writeFileSync(join(dir, 'chat.conf'), deploySnippet('apache-chat.conf', appPort))
  writeFileSync(join(dir, 'httpd.conf'), `
${apacheServerConfig(dir, [httpPort, httpsPort], ['proxy', 'proxy_http', 'headers', 'socache_shmcb', 'ssl'])}
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
  const apache = spawnChild(t, 'apache2', ['-DFOREGROUND', '-f', join(dir, 'httpd.conf')])
  return await proxyUp('apache', apache, dir, httpPort, httpsPort)
}

async function proxyUp (name: Proxy['name'], proc: ChildHandle, dir: string, httpPort: number, httpsPort: number): Promise<Proxy> {
  const errorLog = join(dir, 'error.log')
  const log = (): string => proc.output() + (existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : '')
  const origin = `http://127.0.0.1:${httpPort}`
  const proxy = { name, url: `${origin}/chat`, httpsUrl: `https://127.0.0.1:${httpsPort}/chat`, origin, log }
  await untilReady(name, proc, async () => (await request(`${proxy.url}/api/health`, { timeoutMs: 2000 })).status === 200, { timeoutMs: 15000, log })
  return proxy
}
