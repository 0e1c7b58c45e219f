import type { ImageFacts } from '../../core/image-facts.js'
import { repositoryOf } from '../../core/image-reference.js'
import type { RegistryClient } from './client.js'
import { RegistryError } from './errors.js'
import { ImageError } from '../../core/errors.js'
import type { Architecture } from '../../core/platform.js'

/**
 * What an image runs, read from its config blob through the registry: no pull, a few KB. The digest is the
 * one docker records in RepoDigests: the index's for a multi-platform image, else the manifest's.
 */
export async function registryImageFacts(client: RegistryClient, reference: string, architecture: Architecture = 'amd64'): Promise<ImageFacts> {
  let image
  try {
    image = await client.getImageConfig(reference, { os: 'linux', architecture })
  } catch (error) {
    if (error instanceof RegistryError && error.status === 404) throw new ImageError(reference, `not found in registry ${error.registry} (HTTP 404)`)
    throw error
  }
  const config = image.config.config ?? {}
  return {
    reference,
    digest: `${repositoryOf(reference)}@${image.indexDigest ?? image.manifestDigest}`,
    ...(image.indexDigest ? { platformDigest: image.manifestDigest } : {}),
    user: config.User ?? '',
    entrypoint: config.Entrypoint ?? [],
    cmd: config.Cmd ?? [],
    architecture: image.config.architecture
  }
}
