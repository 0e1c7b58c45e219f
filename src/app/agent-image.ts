import { AGENT_DIR, declaredVolumes, volumeCoversAgentDir } from '../core/agent.js'
import { ImageError, PlatformMissingError, type SourceLocation } from '../core/errors.js'
import { parseImageReference, repositoryOf } from '../core/image-reference.js'
import { selectPlatform } from '../core/oci.js'
import { cpuArchitectureName, platformName, type Architecture } from '../core/platform.js'
import type { Context } from './context.js'
import type { Host } from './host.js'
import type { Registry } from './services.js'
import type { TaskJob } from './task-job.js'

export interface AgentImage {
  /** What the task definition and the Dockerfile name: `repo:tag@sha256:…` when pinned. */
  image: string
  /** The digest the image resolved to, when it was looked up: an index's for a multi-platform image. */
  digest?: string
  /** For a multi-platform image: each task platform's own manifest digest, which builds name the image by. */
  platformDigests?: Partial<Record<Architecture, string>>
}

/** A CPU architecture some task of the run gives the agent, and where the first such task says so. */
export interface AgentPlatform {
  architecture: Architecture
  location: SourceLocation
}

/**
 * The agent image, pinned to the digest its tag points at now so every deploy runs the agent that was reviewed,
 * and checked for every platform the tasks run on: it must have a variant for each (an ARM64 task with an
 * AMD64-only agent deploys with an agent that never starts), and a sidecar's image must declare the volume that
 * carries the agent. Nothing is fetched when no task uses the agent, or it is neither pinned, copied, nor on ARM64.
 */
export async function resolveAgentImage(host: Host, ctx: Context, client: Registry, jobs: TaskJob[]): Promise<AgentImage> {
  const planned = jobs.flatMap(job => job.planned)
  const use = { sidecar: planned.some(({ plan }) => plan.attachSidecar), copied: planned.some(({ plan }) => plan.build?.copyAgent === true) }
  if (!use.sidecar && !use.copied) return { image: ctx.agentImage }
  const platforms = agentPlatforms(jobs)
  const arm = platforms.filter(platform => platform.architecture !== 'amd64')
  if (!ctx.pinAgentImage && !(use.copied && !ctx.dryRun) && arm.length === 0) return { image: ctx.agentImage }
  if (!use.sidecar && arm.length === 0) {
    // Only copied into X86_64 images: its digest names the build, and the build itself checks the architecture.
    const manifest = await client.getManifest(ctx.agentImage)
    const child = 'manifests' in manifest.json ? selectPlatform(manifest.json, { os: 'linux', architecture: 'amd64' })?.digest : undefined
    return { ...pin(host, ctx, manifest.digest), ...(child ? { platformDigests: { amd64: child } } : {}) }
  }
  let digest: string | undefined
  const platformDigests: Partial<Record<Architecture, string>> = {}
  for (const { architecture, location } of platforms) {
    let found
    try {
      found = await client.getImageConfig(ctx.agentImage, { os: 'linux', architecture })
    } catch (error) {
      if (error instanceof PlatformMissingError) throw missingPlatform(ctx.agentImage, architecture, error.present, location)
      throw error
    }
    // A single-platform image says its architecture in its config only.
    const has = found.config.architecture ?? 'amd64'
    if (has !== architecture) throw missingPlatform(ctx.agentImage, architecture, [`linux/${has}`], location)
    if (use.sidecar) checkAgentVolume(ctx.agentImage, found.config.config?.Volumes)
    digest ??= found.indexDigest ?? found.manifestDigest
    if (found.indexDigest) platformDigests[architecture] = found.manifestDigest
  }
  return { ...pin(host, ctx, digest as string), ...(Object.keys(platformDigests).length ? { platformDigests } : {}) }
}

/** Each CPU architecture whose tasks run the agent, with the first task definition line that asks for it. */
function agentPlatforms(jobs: TaskJob[]): AgentPlatform[] {
  const found = new Map<Architecture, AgentPlatform>()
  for (const job of jobs) {
    if (!job.planned.some(({ plan }) => plan.attachSidecar || plan.build?.copyAgent)) continue
    if (!found.has(job.architecture)) found.set(job.architecture, { architecture: job.architecture, location: job.view.locate(['runtimePlatform', 'cpuArchitecture']) })
  }
  return [...found.values()]
}

function missingPlatform(agentImage: string, architecture: Architecture, present: string[], location: SourceLocation | undefined): ImageError {
  const task = cpuArchitectureName(architecture)
  return new ImageError(
    agentImage,
    `has no ${platformName(architecture)} variant (it has ${present.join(', ') || 'none'}), but the task runs on ${task} (runtimePlatform.cpuArchitecture): ` +
      `the agent would never start; give agent-image an image with a ${platformName(architecture)} variant, or run the task on ${task === 'ARM64' ? 'X86_64' : 'ARM64'}`,
    location
  )
}

/** `volumesFrom` shares only what the source image declares as a VOLUME: it must cover the agent directory. */
function checkAgentVolume(agentImage: string, declared: Record<string, object> | null | undefined): void {
  if (!volumeCoversAgentDir(declared)) {
    throw new ImageError(agentImage, `declares no VOLUME covering ${AGENT_DIR} (it has ${declaredVolumes(declared).join(', ') || 'none'}): volumesFrom would give the app nothing`)
  }
}

/** `repo:tag@digest` when pinning (and the input names no digest yet), else the input as it is. */
function pin(host: Host, ctx: Context, digest: string): AgentImage {
  const reference = parseImageReference(ctx.agentImage)
  if (!ctx.pinAgentImage || reference.digest) return { image: ctx.agentImage, digest }
  const image = `${repositoryOf(ctx.agentImage)}${reference.tag ? `:${reference.tag}` : ''}@${digest}`
  host.info(`agent image ${ctx.agentImage} pinned to ${image}`)
  return { image, digest }
}
