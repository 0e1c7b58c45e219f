// Setup helpers for the benchmark: plain HTTP against the loopback registry (independent of the code under
// test), with their own User-Agent so the registry log never counts them as a measured tool's requests.
import { createHash } from 'node:crypto'
import { gzipSync } from 'node:zlib'

export const SETUP_AGENT = 'lwf-bench-setup'
const MANIFEST_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json'
].join(', ')

export const sha256 = bytes => `sha256:${createHash('sha256').update(bytes).digest('hex')}`

/** A client of one loopback registry (`127.0.0.1:5000`), for setup and clean-up only. */
export class SetupRegistry {
  constructor(host) {
    if (!/^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(host)) throw new Error(`refusing non-loopback registry ${host}`)
    this.host = host
    this.base = `http://${host}`
  }

  async request(method, path, { headers = {}, body, expect = [200] } = {}) {
    const url = path.startsWith('http') ? path : `${this.base}${path}`
    if (new URL(url).host !== this.host) throw new Error(`refusing ${url}: not ${this.host}`)
    const response = await fetch(url, { method, headers: { 'User-Agent': SETUP_AGENT, ...headers }, body, redirect: 'manual', signal: AbortSignal.timeout(60_000) })
    const bytes = Buffer.from(await response.arrayBuffer())
    if (!expect.includes(response.status)) throw new Error(`${method} ${url}: HTTP ${response.status} ${bytes.toString('utf8').slice(0, 200)}`)
    return { response, bytes }
  }

  async manifest(repo, ref) {
    const { response, bytes } = await this.request('GET', `/v2/${repo}/manifests/${ref}`, { headers: { Accept: MANIFEST_ACCEPT } })
    const json = JSON.parse(bytes.toString('utf8'))
    const mediaType = json.mediaType ?? response.headers.get('content-type')
    if (json.manifests) throw new Error(`${repo}:${ref} is an index: the benchmark copies single-platform images only`)
    return { bytes, json, mediaType, digest: sha256(bytes) }
  }

  async blob(repo, digest) {
    return (await this.request('GET', `/v2/${repo}/blobs/${digest}`)).bytes
  }

  /** Size of a blob (HEAD), or undefined when the repository does not have it. */
  async blobSize(repo, digest) {
    const { response } = await this.request('HEAD', `/v2/${repo}/blobs/${digest}`, { expect: [200, 404] })
    return response.status === 200 ? Number(response.headers.get('content-length')) : undefined
  }

  /** Size and digest of the manifest a tag names (HEAD). */
  async manifestHead(repo, ref) {
    const { response } = await this.request('HEAD', `/v2/${repo}/manifests/${ref}`, { headers: { Accept: MANIFEST_ACCEPT }, expect: [200, 404] })
    if (response.status !== 200) return undefined
    return { size: Number(response.headers.get('content-length')), digest: response.headers.get('docker-content-digest') }
  }

  async mount(repo, digest, from) {
    const query = new URLSearchParams({ mount: digest, from })
    const { response } = await this.request('POST', `/v2/${repo}/blobs/uploads/?${query}`, { expect: [201, 202] })
    if (response.status !== 201) throw new Error(`the registry would not mount ${digest} from ${from} into ${repo}`)
  }

  async upload(repo, bytes) {
    const digest = sha256(bytes)
    if ((await this.blobSize(repo, digest)) !== undefined) return digest
    const start = await this.request('POST', `/v2/${repo}/blobs/uploads/`, { expect: [202] })
    const url = new URL(start.response.headers.get('location'), this.base)
    url.searchParams.set('digest', digest)
    await this.request('PUT', url.href, { headers: { 'Content-Type': 'application/octet-stream' }, body: bytes, expect: [201] })
    return digest
  }

  async putManifest(repo, tag, mediaType, bytes) {
    await this.request('PUT', `/v2/${repo}/manifests/${tag}`, { headers: { 'Content-Type': mediaType }, body: bytes, expect: [201] })
    return sha256(bytes)
  }

  /** Copies an image within the registry by mounting its blobs (no bytes move): a fresh name for the same image. */
  async copy(fromRepo, fromRef, toRepo, toTag) {
    const m = await this.manifest(fromRepo, fromRef)
    for (const d of [m.json.config, ...m.json.layers]) await this.mount(toRepo, d.digest, fromRepo)
    return this.putManifest(toRepo, toTag, m.mediaType, m.bytes)
  }

  /**
   * The image under a new name with one tiny, unique layer at the bottom: same files and size, but every layer
   * chain is new to the Docker engine, so `docker pull` really downloads and extracts all of it.
   */
  async uniqueCopy(fromRepo, fromRef, toRepo, toTag, marker) {
    const m = await this.manifest(fromRepo, fromRef)
    const config = JSON.parse((await this.blob(fromRepo, m.json.config.digest)).toString('utf8'))
    const tar = tarOneFile(`lwf-bench-${marker}`, `${marker}\n`)
    const layer = gzipSync(tar)
    const layerDigest = await this.upload(toRepo, layer)
    for (const d of m.json.layers) await this.mount(toRepo, d.digest, fromRepo)
    config.rootfs.diff_ids = [sha256(tar), ...config.rootfs.diff_ids]
    config.history = [{ created: config.created, created_by: `lwf-bench unique base layer ${marker}` }, ...(config.history ?? [])]
    const configBytes = Buffer.from(JSON.stringify(config))
    const configDigest = await this.upload(toRepo, configBytes)
    const gzipType = m.mediaType.includes('oci') ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.docker.image.rootfs.diff.tar.gzip'
    const manifest = {
      ...m.json,
      config: { ...m.json.config, size: configBytes.length, digest: configDigest },
      layers: [{ mediaType: gzipType, size: layer.length, digest: layerDigest }, ...m.json.layers]
    }
    const bytes = Buffer.from(JSON.stringify(manifest, null, 3))
    await this.putManifest(toRepo, toTag, m.mediaType, bytes)
    return { size: manifest.layers.reduce((sum, l) => sum + l.size, 0) + configBytes.length, layers: manifest.layers.length }
  }

  async tags(repo) {
    const { response, bytes } = await this.request('GET', `/v2/${repo}/tags/list`, { expect: [200, 404] })
    return response.status === 200 ? (JSON.parse(bytes.toString('utf8')).tags ?? []) : []
  }

  /** Deletes every manifest a repository's tags name (the registry has deletes enabled); blobs stay. */
  async deleteRepositoryManifests(repo) {
    const digests = new Set()
    for (const tag of (await this.tags(repo)).slice(0, 200)) {
      const head = await this.manifestHead(repo, tag)
      if (head?.digest) digests.add(head.digest)
    }
    for (const digest of digests) await this.request('DELETE', `/v2/${repo}/manifests/${digest}`, { expect: [202, 404, 405] })
    return digests.size
  }
}

/** A ustar archive holding one regular file. */
function tarOneFile(name, content) {
  const data = Buffer.from(content)
  const header = Buffer.alloc(512)
  const put = (text, offset, length) => header.write(text, offset, length, 'ascii')
  const octal = (value, length) => value.toString(8).padStart(length - 1, '0') + '\0'
  put(name, 0, 100)
  put(octal(0o644, 8), 100, 8)
  put(octal(0, 8), 108, 8)
  put(octal(0, 8), 116, 8)
  put(octal(data.length, 12), 124, 12)
  put(octal(0, 12), 136, 12)
  put('        ', 148, 8)
  put('0', 156, 1)
  put('ustar\0', 257, 6)
  put('00', 263, 2)
  let sum = 0
  for (const byte of header) sum += byte
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8)
  const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512)
  data.copy(padded)
  return Buffer.concat([header, padded, Buffer.alloc(1024)])
}
