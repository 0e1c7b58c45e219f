import { DockerError, ImageError, RegistryError } from '../core/errors.js'
import { findInspectEntry, imageFactsFromInspect, type ImageFacts, type InspectEntry } from '../core/image-facts.js'
import { repositoryOf } from '../core/image-reference.js'
import { platformName, type Architecture } from '../core/platform.js'
import type { DockerEngine, Registry } from './services.js'

/** Where image facts come from: `auto` takes the local engine when it has the image, else the registry. */
export type InspectSource = 'auto' | 'docker' | 'registry'

/**
 * Finds image facts for the platform a task runs on: first in saved `docker image inspect` output, then — by
 * `source` — in the local engine (`docker` pulls what it lacks) or the registry (a few KB, no pull). Each reference
 * is looked up once per run and architecture: a multi-platform image's variants may differ in user and command.
 */
export class ImageFactsLookup {
  private readonly cache = new Map<string, Promise<ImageFacts>>()
  private engineAnswers = true

  constructor(
    private readonly source: InspectSource,
    private readonly docker: DockerEngine,
    private readonly registry: Registry,
    private readonly saved: InspectEntry[] = []
  ) {}

  facts(reference: string, architecture: Architecture): Promise<ImageFacts> {
    const key = `${platformName(architecture)} ${reference}`
    let facts = this.cache.get(key)
    if (!facts) {
      facts = this.lookUp(reference, architecture)
      this.cache.set(key, facts)
    }
    return facts
  }

  private async lookUp(reference: string, architecture: Architecture): Promise<ImageFacts> {
    // Saved output describes one image as it was inspected: taken as given, whatever the task's platform.
    const saved = findInspectEntry(this.saved, reference)
    if (saved) return imageFactsFromInspect(saved, reference)
    if (this.source === 'registry') return registryImageFacts(this.registry, reference, architecture)
    if (this.source === 'auto') {
      const local = await this.localEntry(reference)
      // The engine holds one variant per tag: another platform's is no answer for this task.
      return local && matches(local, architecture) ? imageFactsFromInspect(local, reference) : registryImageFacts(this.registry, reference, architecture)
    }
    let entry = await this.docker.inspect(reference)
    if (!entry || !matches(entry, architecture)) {
      await this.docker.pull(reference, platformName(architecture))
      entry = await this.docker.inspect(reference)
    }
    if (!entry) throw new ImageError(reference, 'not found after docker pull')
    return imageFactsFromInspect(entry, reference)
  }

  /** The engine's entry, or undefined when there is no engine (never a pull just to inspect). */
  private async localEntry(reference: string): Promise<InspectEntry | undefined> {
    if (!this.engineAnswers) return undefined
    try {
      return await this.docker.inspect(reference)
    } catch (error) {
      if (!(error instanceof DockerError)) throw error
      this.engineAnswers = false
      return undefined
    }
  }
}

/** An engine's image is for `architecture` when it says so (or says nothing, as old engines did). */
function matches(entry: InspectEntry, architecture: Architecture): boolean {
  return !entry.Architecture || entry.Architecture === architecture
}

/**
 * What an image runs, read from its config blob through the registry: no pull, a few KB. The digest is the one
 * docker records in RepoDigests: the index's for a multi-platform image (with its platform's own beside it), else
 * the manifest's.
 */
export async function registryImageFacts(registry: Registry, reference: string, architecture: Architecture = 'amd64'): Promise<ImageFacts> {
  let image
  try {
    image = await registry.getImageConfig(reference, { os: 'linux', architecture })
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
    architecture: image.config.architecture,
    os: image.config.os
  }
}
