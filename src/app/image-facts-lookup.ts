import { readFile } from 'node:fs/promises'
import { DockerError, InputError, ImageError } from '../core/errors.js'
import { findInspectEntry, imageFactsFromInspect, type ImageFacts, type InspectEntry } from '../core/image-facts.js'
import { platformName, type Architecture } from '../core/platform.js'
import type { DockerCli } from '../adapters/docker/docker-cli.js'

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
    private readonly docker: DockerCli,
    private readonly registry: (reference: string, architecture: Architecture) => Promise<ImageFacts>,
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
    if (this.source === 'registry') return this.registry(reference, architecture)
    if (this.source === 'auto') {
      const local = await this.localEntry(reference)
      // The engine holds one variant per tag: another platform's is no answer for this task.
      return local && matches(local, architecture) ? imageFactsFromInspect(local, reference) : this.registry(reference, architecture)
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

/** Reads saved `docker image inspect` output (an array, or one object). */
export async function loadSavedInspect(path: string, input: string): Promise<InspectEntry[]> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new InputError(input, `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new InputError(input, `${path} is not docker image inspect output: ${(error as Error).message}`)
  }
  const entries = Array.isArray(value) ? value : [value]
  if (!entries.every(entry => typeof entry === 'object' && entry !== null && 'Config' in entry)) {
    throw new InputError(input, `${path} is not docker image inspect output: every entry needs a Config`)
  }
  return entries as InspectEntry[]
}
