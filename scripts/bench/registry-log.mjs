// Reads the CNCF Distribution registry's log ("response completed" lines: one per request, with method,
// URI, User-Agent, status and http.response.written bytes) from a byte offset on, and attributes requests to
// measured runs by time window, repository and User-Agent.
import { closeSync, openSync, readSync, statSync } from 'node:fs'

const FIELD = /([\w.]+)=("(?:[^"\\]|\\.)*"|\S*)/g

export class RegistryLog {
  constructor(path) {
    this.path = path
  }

  size() {
    return statSync(this.path).size
  }

  /** Waits (bounded: at most 1 s) until the log stops growing, so the last requests are in it. */
  async settle() {
    let last = -1
    for (let i = 0; i < 20; i++) {
      const now = this.size()
      if (now === last) return
      last = now
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }

  /** Every request logged after `offset` (bytes into the file). */
  requestsSince(offset) {
    const end = this.size()
    if (end <= offset) return []
    const length = Math.min(end - offset, 256 << 20)
    const buffer = Buffer.alloc(length)
    const fd = openSync(this.path, 'r')
    try {
      readSync(fd, buffer, 0, length, offset)
    } finally {
      closeSync(fd)
    }
    const requests = []
    for (const line of buffer.toString('utf8').split('\n')) {
      // Errors (404 on a HEAD, 401) are logged at level=error as "response completed with error".
      if (!/msg="response completed( with error)?"/.test(line)) continue
      const fields = {}
      for (const [, key, raw] of line.matchAll(FIELD)) fields[key] = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw
      const uri = fields['http.request.uri'] ?? ''
      requests.push({
        time: parseTime(fields.time),
        method: fields['http.request.method'],
        uri,
        agent: fields['http.request.useragent'] ?? '',
        status: Number(fields['http.response.status']),
        written: Number(fields['http.response.written'] ?? 0),
        repository: repositoryOf(uri)
      })
    }
    return requests
  }
}

/** Milliseconds since the epoch, with the log's sub-millisecond digits kept as a fraction. */
function parseTime(text) {
  const match = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(text ?? '')
  if (!match) return NaN
  return Date.parse(`${match[1]}${match[3]}`) + Number(`0${match[2] ?? ''}`) * 1000
}

/** `/v2/a/b/manifests/x` → `a/b`; `/v2/` → '' (the version check names no repository). */
export function repositoryOf(uri) {
  const path = uri.split('?')[0]
  const match = /^\/v2\/(.+?)\/(manifests|blobs|tags)\//.exec(path)
  return match ? match[1] : ''
}

export const isManifestGet = r => r.method === 'GET' && /\/manifests\//.test(r.uri)
export const isBlobUploadDone = r => r.method === 'PUT' && /\/blobs\/uploads\//.test(r.uri) && r.status === 201
export const isManifestPut = r => r.method === 'PUT' && /\/manifests\//.test(r.uri) && r.status === 201
export const isWrite = r => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method)

/** The digest a finished upload (`PUT …/blobs/uploads/…?digest=`) stored. */
export function uploadDigest(r) {
  const query = r.uri.split('?')[1] ?? ''
  return new URLSearchParams(query).get('digest') ?? undefined
}

/**
 * The requests of one run: logged within [start, end + slack], to a repository `repo` accepts, or the
 * repository-less version check (`/v2/`) by a client whose User-Agent `agent` accepts.
 */
export function requestsOf(requests, { start, end }, { repo, agent }, slackMs = 30) {
  return requests.filter(r => r.time >= start - 1 && r.time <= end + slackMs && agent.test(r.agent) && (r.repository ? repo(r.repository) : true))
}

/** Requests and bytes sent by the registry (response bodies). */
export function tally(requests) {
  return { requests: requests.length, bytes: requests.reduce((sum, r) => sum + (Number.isFinite(r.written) ? r.written : 0), 0) }
}
