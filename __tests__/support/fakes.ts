import { gunzipSync, gzipSync } from 'node:zlib'
import type { InputName } from '../../src/app/context.js'
import type { GitHubRun, Host } from '../../src/app/host.js'
import type {
  BlobSink,
  DockerEngine,
  EngineAnswer,
  Files,
  FoundCommand,
  PullRequestComments,
  PullRequestRef,
  Registry,
  Services,
  StickyCommentResult,
  Verifier
} from '../../src/app/services.js'
import type { EcsTaskDefinitions } from '../../src/app/ecs.js'
import { digestOf } from '../../src/core/digest.js'
import { DockerError, PlatformMissingError, RegistryError, type SourceLocation } from '../../src/core/errors.js'
import type { InspectEntry } from '../../src/core/image-facts.js'
import { canonicalImageReference, canonicalRepository, parseImageReference } from '../../src/core/image-reference.js'
import { MediaType, formatPlatform, imageEntries, selectPlatform, type ImageConfig, type ImageConfigResult, type ImageIndex, type ImageManifest, type ManifestResult, type Platform } from '../../src/core/oci.js'
import { writeTar, type TarEntry } from '../../src/core/tar.js'

// In-memory stand-ins for the engines and clients a run gets through Services: the orchestration is tested with
// these in the fast tier; the real ones are proven against a real engine and registry by the full suite.

/** A host that records everything a run says and sets, for assertions. */
export class MemoryHost implements Host {
  readonly infos: string[] = []
  readonly warnings: { message: string; location?: SourceLocation }[] = []
  readonly errors: { message: string; location?: SourceLocation }[] = []
  readonly notices: { message: string; location?: SourceLocation }[] = []
  readonly outputs: Record<string, string> = {}
  readonly secrets: string[] = []
  readonly summaries: string[] = []
  readonly results: string[] = []
  failed = false
  log = { write: (chunk: unknown) => void this.infos.push(String(chunk)) } as unknown as Host['log']

  constructor(
    private readonly inputs: Partial<Record<InputName, string>>,
    private readonly options: { outputFolder?: string; gitHubRun?: GitHubRun; workspace?: string } = {}
  ) {}

  workspace(): string {
    return this.options.workspace ?? '/workspace'
  }

  getInput(name: InputName): string {
    return this.inputs[name] ?? ''
  }
  setSecret(value: string): void {
    if (value) this.secrets.push(value)
  }
  info(message: string): void {
    this.infos.push(message)
  }
  warning(message: string, location?: SourceLocation): void {
    this.warnings.push({ message, location })
  }
  notice(message: string, location?: SourceLocation): void {
    this.notices.push({ message, location })
  }
  error(message: string, location?: SourceLocation): void {
    this.errors.push({ message, location })
  }
  setOutput(name: string, value: string): void {
    this.outputs[name] = value
  }
  outputFolder(): string | undefined {
    return this.options.outputFolder
  }
  writeResult(text: string): void {
    this.results.push(text)
  }
  group<T>(_name: string, work: () => Promise<T>): Promise<T> {
    return work()
  }
  async writeSummary(markdown: string): Promise<void> {
    this.summaries.push(markdown)
  }
  gitHubRun(): GitHubRun | undefined {
    return this.options.gitHubRun
  }
  fail(): void {
    this.failed = true
  }
}

/** Files in memory: paths as given, no globs beyond a literal list. */
export class MemoryFiles implements Files {
  readonly files = new Map<string, string>()
  readonly written = new Map<string, string>()

  constructor(files: Record<string, string> = {}) {
    for (const [path, text] of Object.entries(files)) this.files.set(path, text)
  }

  async resolveTaskDefinitions(input: string): Promise<string[]> {
    return input.split('\n').map(line => line.trim()).filter(Boolean)
  }
  async readTaskDefinition(path: string): Promise<string> {
    const text = this.files.get(path)
    if (text === undefined) throw new Error(`MemoryFiles has no ${path}`)
    return text
  }
  async readSavedInspect(path: string): Promise<InspectEntry[]> {
    return JSON.parse(await this.readTaskDefinition(path)) as InspectEntry[]
  }
  async checkOutputPath(): Promise<void> {}
  async writeAtomically(path: string, text: string): Promise<void> {
    this.written.set(path, text)
  }
}

/** A registry in memory, addressed like a real one (`registry/name`), that keeps exact bytes and their digests. */
export class MemoryRegistry implements Registry {
  private readonly blobs = new Map<string, Buffer>()
  private readonly manifests = new Map<string, { mediaType: string; bytes: Buffer }>()
  /** Every call, as `operation reference-or-repository`. */
  readonly calls: string[] = []

  async getManifest(reference: string): Promise<ManifestResult> {
    this.calls.push(`getManifest ${reference}`)
    return this.manifest(reference)
  }

  async getImageConfig(reference: string, platform: Platform = { os: 'linux', architecture: 'amd64' }): Promise<ImageConfigResult> {
    this.calls.push(`getImageConfig ${reference} ${formatPlatform(platform)}`)
    let found = this.manifest(reference)
    let indexDigest: string | undefined
    if ('manifests' in found.json) {
      const entry = selectPlatform(found.json, platform)
      if (!entry) {
        const ref = parseImageReference(reference)
        const present = imageEntries(found.json).map(child => formatPlatform(child.platform ?? { os: 'linux', architecture: 'amd64' }))
        throw new PlatformMissingError(ref.registry, ref.repository, reference, formatPlatform(platform), present)
      }
      indexDigest = found.digest
      found = this.manifest(`${canonicalRepository(reference)}@${entry.digest}`)
    }
    const manifest = found.json as ImageManifest
    const configBytes = this.blob(canonicalRepository(reference), manifest.config.digest)
    return { indexDigest, manifestDigest: found.digest, manifest, configDigest: manifest.config.digest, configBytes, config: JSON.parse(configBytes.toString('utf8')) as ImageConfig }
  }

  async blobExists(repository: string, digest: string): Promise<boolean> {
    this.calls.push(`blobExists ${repository}`)
    return this.blobs.has(`${canonicalRepository(repository)}@${digest}`)
  }
  async getBlob(repository: string, digest: string): Promise<Buffer> {
    this.calls.push(`getBlob ${repository}`)
    return this.blob(canonicalRepository(repository), digest)
  }
  /** The stored bytes in a few chunks (three, or fewer for a tiny blob), each write awaited, as the real client streams them. */
  async readBlob<T>(repository: string, digest: string, open: () => BlobSink<T>): Promise<T> {
    this.calls.push(`readBlob ${repository}`)
    const bytes = this.blob(canonicalRepository(repository), digest)
    const sink = open()
    const size = Math.max(1, Math.ceil(bytes.length / 3))
    try {
      for (let at = 0; at < bytes.length; at += size) await sink.write(bytes.subarray(at, at + size))
    } catch (error) {
      sink.abort(error as Error)
      throw error
    }
    return sink.end()
  }
  async mountBlob(target: string, digest: string, from: string): Promise<boolean> {
    this.calls.push(`mountBlob ${target}`)
    const bytes = this.blobs.get(`${canonicalRepository(from)}@${digest}`)
    if (!bytes) return false
    this.blobs.set(`${canonicalRepository(target)}@${digest}`, bytes)
    return true
  }
  async uploadBlob(repository: string, digest: string, bytes: Buffer): Promise<void> {
    this.calls.push(`uploadBlob ${repository}`)
    if (digestOf(bytes) !== digest) throw new Error(`upload of ${digest}: the bytes are ${digestOf(bytes)}`)
    this.blobs.set(`${canonicalRepository(repository)}@${digest}`, bytes)
  }
  async putManifest(repository: string, tag: string, mediaType: string, bytes: Buffer): Promise<string> {
    this.calls.push(`putManifest ${repository}:${tag}`)
    const repo = canonicalRepository(repository)
    const digest = digestOf(bytes)
    this.manifests.set(`${repo}@${digest}`, { mediaType, bytes })
    if (!tag.startsWith('sha256:')) this.manifests.set(`${repo}:${tag}`, { mediaType, bytes })
    return digest
  }

  /** Stores an image (config + gzip layers) under `reference`; returns its manifest digest. */
  addImage(reference: string, config: ImageConfig, layers: Buffer[] = [], options: { tag?: boolean } = {}): string {
    const repo = canonicalRepository(reference)
    const configBytes = Buffer.from(JSON.stringify(config))
    const put = (bytes: Buffer): string => {
      const digest = digestOf(bytes)
      this.blobs.set(`${repo}@${digest}`, bytes)
      return digest
    }
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: put(configBytes), size: configBytes.length },
      layers: layers.map(layer => ({ mediaType: MediaType.ociLayerGzip, digest: put(layer), size: layer.length }))
    }
    const bytes = Buffer.from(JSON.stringify(manifest))
    const digest = digestOf(bytes)
    this.manifests.set(`${repo}@${digest}`, { mediaType: MediaType.ociManifest, bytes })
    if (options.tag !== false) this.manifests.set(canonicalImageReference(reference).replace(/@.*$/, ''), { mediaType: MediaType.ociManifest, bytes })
    return digest
  }

  /** Stores an OCI index of images already added (by digest) under `reference`. */
  addIndex(reference: string, children: { digest: string; platform: Platform }[]): string {
    const index: ImageIndex = {
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: children.map(child => ({ mediaType: MediaType.ociManifest, digest: child.digest, size: this.manifest(`${canonicalRepository(reference)}@${child.digest}`).bytes.length, platform: child.platform }))
    }
    const bytes = Buffer.from(JSON.stringify(index))
    const digest = digestOf(bytes)
    const repo = canonicalRepository(reference)
    this.manifests.set(`${repo}@${digest}`, { mediaType: MediaType.ociIndex, bytes })
    this.manifests.set(canonicalImageReference(reference), { mediaType: MediaType.ociIndex, bytes })
    return digest
  }

  private manifest(reference: string): ManifestResult {
    const ref = parseImageReference(reference)
    const key = ref.digest ? `${ref.registry}/${ref.repository}@${ref.digest}` : `${ref.registry}/${ref.repository}:${ref.tag}`
    const found = this.manifests.get(key)
    if (!found) throw new RegistryError(ref.registry, ref.repository, `GET manifest ${ref.digest ?? ref.tag} failed: MANIFEST_UNKNOWN`, 404)
    return { mediaType: found.mediaType, digest: digestOf(found.bytes), bytes: found.bytes, json: JSON.parse(found.bytes.toString('utf8')) as ImageIndex | ImageManifest }
  }

  private blob(repository: string, digest: string): Buffer {
    const bytes = this.blobs.get(`${repository}@${digest}`)
    if (!bytes) throw new RegistryError(repository.split('/')[0], repository, `GET blob ${digest} failed: BLOB_UNKNOWN`, 404)
    return bytes
  }
}

/** A Docker engine in memory: the images it "has", and every build and push it was asked for. */
export class MemoryDocker implements DockerEngine {
  readonly builds: { dockerfile: string; tag: string; platform: string }[] = []
  readonly pushes: string[] = []
  readonly images = new Map<string, InspectEntry>()

  constructor(
    private readonly answer: EngineAnswer = { ok: false, reason: 'no engine in this test' },
    private readonly commands: FoundCommand = 'none'
  ) {}

  async serverVersion(): Promise<EngineAnswer> {
    return this.answer
  }
  async inspect(reference: string): Promise<InspectEntry | undefined> {
    if (!this.answer.ok) throw new DockerError(`cannot run docker: ${this.answer.reason}`)
    return this.images.get(reference)
  }
  async pull(reference: string): Promise<void> {
    throw new DockerError(`docker pull of ${reference}: not in this test`)
  }
  async build(dockerfile: string, tag: string, platform: string): Promise<void> {
    if (!this.answer.ok) throw new DockerError(`cannot run docker: ${this.answer.reason}`)
    this.builds.push({ dockerfile, tag, platform })
  }
  async push(tag: string): Promise<string> {
    this.pushes.push(tag)
    return digestOf(tag)
  }
  async findCommand(): Promise<FoundCommand> {
    return this.commands
  }
}

/** Records every comment; `answer` decides what GitHub says. */
export class MemoryComments implements PullRequestComments {
  readonly comments: { pullRequest: PullRequestRef; marker: string; body: string }[] = []
  constructor(private readonly answer: () => StickyCommentResult = () => ({ status: 'created', url: 'https://github.test/acme/web/pull/7#issuecomment-1' })) {}
  async upsertStickyComment(pullRequest: PullRequestRef, marker: string, body: string): Promise<StickyCommentResult> {
    this.comments.push({ pullRequest, marker, body })
    return this.answer()
  }
}

/** Services made of the fakes above (each overridable). */
export function fakeServices(parts: Partial<{ files: Files; docker: DockerEngine; registry: Registry; verifier: Verifier; comments: PullRequestComments; ecs: EcsTaskDefinitions }> = {}): Services {
  const registry = parts.registry ?? new MemoryRegistry()
  const comments = parts.comments ?? new MemoryComments()
  return {
    files: parts.files ?? new MemoryFiles(),
    docker: parts.docker ?? new MemoryDocker(),
    registry: () => registry,
    verifier: parts.verifier ?? (async () => ({ ok: true, checks: [] })),
    pullRequests: async () => comments,
    ecs: async () => parts.ecs ?? { describe: async target => { throw new Error(`no ECS in this test (asked for ${target})`) } }
  }
}

/** A gzip layer of `entries` (regular files get `data`), written by the project's own tar writer. */
export function layer(entries: { path: string; type?: string; data?: string; linkName?: string; mode?: number }[]): Buffer {
  const tar: TarEntry[] = entries.map(entry => {
    const data = entry.data === undefined ? undefined : Buffer.from(entry.data)
    return {
      path: entry.path,
      type: entry.type ?? (data ? '0' : '5'),
      linkName: entry.linkName,
      size: data?.length ?? 0,
      mode: entry.mode ?? (data ? 0o755 : 0o755),
      uid: 0,
      gid: 0,
      uname: '',
      gname: '',
      mtime: 0,
      devMajor: 0,
      devMinor: 0,
      data
    }
  })
  return gzipSync(writeTar(tar))
}

/** An image config with what the action reads, and the diff_ids of `layers`. */
export function imageConfig(config: { User?: string; Entrypoint?: string[]; Cmd?: string[]; Volumes?: Record<string, object> }, layers: Buffer[] = [], architecture = 'amd64'): ImageConfig {
  return { architecture, os: 'linux', config, rootfs: { type: 'layers', diff_ids: layers.map(bytes => digestOf(gunzipSync(bytes))) } }
}
