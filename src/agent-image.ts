import type { RegistryClient } from './adapters/registry/client.js'
import { RegistryError } from './adapters/registry/errors.js'
import type { Context } from './context.js'
import { AGENT_DIR } from './core/agent.js'
import { ImageError } from './core/errors.js'
import { parseImageReference, repositoryOf } from './core/image-reference.js'
import type { Host } from './host.js'

export interface AgentImage {
  /** What the task definition and the Dockerfile name: `repo:tag@sha256:…` when pinned. */
  image: string
  /** The digest the image resolved to, when it was looked up. */
  digest?: string
}

/**
 * The agent image, pinned to the digest its tag points at now so every deploy runs the agent that was reviewed,
 * and checked: a sidecar's image must declare the volume that carries the agent. It is looked up when pinning,
 * and when a build copies it (the digest names the built image); otherwise nothing is fetched.
 */
export async function resolveAgentImage(host: Host, ctx: Context, client: RegistryClient, architecture: 'amd64' | 'arm64', use: { sidecar: boolean; copied: boolean }): Promise<AgentImage> {
  if (!ctx.pinAgentImage && !(use.copied && !ctx.dryRun)) return { image: ctx.agentImage }
  if (!use.sidecar) {
    // Only copied into an image: its digest names the build, and the build itself checks the architecture.
    const manifest = await client.getManifest(ctx.agentImage)
    return pin(host, ctx, manifest.digest)
  }
  let found
  try {
    found = await client.getImageConfig(ctx.agentImage, { os: 'linux', architecture })
  } catch (error) {
    // An index without the task's platform: its amd64 image still names the agent, and the warning below says why not.
    if (!(error instanceof RegistryError) || !/has no linux\//.test(error.message)) throw error
    found = await client.getImageConfig(ctx.agentImage, { os: 'linux', architecture: 'amd64' })
  }
  if ((found.config.architecture ?? 'amd64') !== architecture) {
    host.warning(`the agent image ${ctx.agentImage} has no linux/${architecture} variant, but the task runs on ${architecture === 'arm64' ? 'ARM64' : 'X86_64'}: the agent will not start`)
  }
  const volumes = Object.keys(found.config.config?.Volumes ?? {}).map(volume => volume.replace(/\/+$/, ''))
  if (!volumes.some(volume => AGENT_DIR === volume || AGENT_DIR.startsWith(`${volume}/`))) {
    throw new ImageError(ctx.agentImage, `declares no VOLUME covering ${AGENT_DIR} (it has ${volumes.join(', ') || 'none'}): volumesFrom would give the app nothing`)
  }
  return pin(host, ctx, found.indexDigest ?? found.manifestDigest)
}

/** `repo:tag@digest` when pinning (and the input names no digest yet), else the input as it is. */
function pin(host: Host, ctx: Context, digest: string): AgentImage {
  const reference = parseImageReference(ctx.agentImage)
  if (!ctx.pinAgentImage || reference.digest) return { image: ctx.agentImage, digest }
  const image = `${repositoryOf(ctx.agentImage)}${reference.tag ? `:${reference.tag}` : ''}@${digest}`
  host.info(`agent image ${ctx.agentImage} pinned to ${image}`)
  return { image, digest }
}
