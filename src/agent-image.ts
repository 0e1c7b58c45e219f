import type { RegistryClient } from './adapters/registry/client.js'
import { RegistryError } from './adapters/registry/errors.js'
import type { Context } from './context.js'
import { AGENT_DIR } from './core/agent.js'
import { ImageError } from './core/errors.js'
import { parseImageReference, repositoryOf } from './core/image-reference.js'
import type { Host } from './host.js'

/**
 * The agent image the task definition is to name: pinned to the digest its tag points at now (`repo:tag@sha256:…`),
 * so every deploy runs the agent that was reviewed. Checks that a sidecar's volume can carry the agent.
 */
export async function resolveAgentImage(host: Host, ctx: Context, client: RegistryClient, architecture: 'amd64' | 'arm64', sidecar: boolean): Promise<string> {
  // Unpinned, nothing is fetched: the run needs no registry for the agent (the quick start's case).
  if (!ctx.pinAgentImage) return ctx.agentImage
  let image
  try {
    image = await client.getImageConfig(ctx.agentImage, { os: 'linux', architecture })
  } catch (error) {
    if (!(error instanceof RegistryError) || architecture !== 'arm64' || !/has no linux\/arm64/.test(error.message)) throw error
    host.warning(`the agent image ${ctx.agentImage} has no linux/arm64 variant, but the task runs on ARM64: the agent will not start`)
    image = await client.getImageConfig(ctx.agentImage, { os: 'linux', architecture: 'amd64' })
  }
  if (sidecar) {
    const volumes = Object.keys(image.config.config?.Volumes ?? {})
    const covers = volumes.some(volume => AGENT_DIR === volume.replace(/\/+$/, '') || AGENT_DIR.startsWith(`${volume.replace(/\/+$/, '')}/`))
    if (!covers) {
      throw new ImageError(ctx.agentImage, `declares no VOLUME covering ${AGENT_DIR} (it has ${volumes.join(', ') || 'none'}): volumesFrom would give the app nothing`)
    }
  }
  if (parseImageReference(ctx.agentImage).digest) return ctx.agentImage
  const { tag } = parseImageReference(ctx.agentImage)
  const pinned = `${repositoryOf(ctx.agentImage)}${tag ? `:${tag}` : ''}@${image.indexDigest ?? image.manifestDigest}`
  host.info(`agent image ${ctx.agentImage} pinned to ${pinned}`)
  return pinned
}
