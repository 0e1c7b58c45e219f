import { InputError } from './errors.js'
import { canonicalImageReference } from './image-reference.js'

/** What the action needs to know of an image: who it runs as and what it runs. */
export interface ImageFacts {
  /** The reference the facts were looked up by. */
  reference: string
  /** `repo@sha256:…` when the engine or registry knows it: an index's digest for a multi-platform image. */
  digest?: string
  /** The digest of the task platform's own manifest, when the reference names a multi-platform index. */
  platformDigest?: string
  user: string
  entrypoint: string[]
  cmd: string[]
  architecture?: string
  /** `linux`, `windows`: the agent runs on Linux only. */
  os?: string
}

interface InspectEntry {
  Id?: string
  RepoTags?: string[] | null
  RepoDigests?: string[] | null
  Architecture?: string
  Os?: string
  Config?: { User?: string; Entrypoint?: string[] | null; Cmd?: string[] | null }
}

/** Facts from one object of `docker image inspect` output. */
export function imageFactsFromInspect(entry: InspectEntry, reference: string): ImageFacts {
  const config = entry.Config ?? {}
  return {
    reference,
    digest: entry.RepoDigests?.[0] ?? undefined,
    user: config.User ?? '',
    entrypoint: config.Entrypoint ?? [],
    cmd: config.Cmd ?? [],
    architecture: entry.Architecture,
    os: entry.Os
  }
}

/** The entry of saved `docker image inspect` output that describes `reference`, matched by tag, digest or id. */
export function findInspectEntry(entries: InspectEntry[], reference: string): InspectEntry | undefined {
  const wanted = canonicalImageReference(reference)
  const digest = reference.includes('@') ? reference.slice(reference.indexOf('@') + 1) : undefined
  return entries.find(
    entry =>
      entry.Id === reference ||
      (entry.RepoTags ?? []).some(tag => canonicalImageReference(tag) === wanted) ||
      (entry.RepoDigests ?? []).some(
        repoDigest => canonicalImageReference(repoDigest) === wanted || (digest && repoDigest.endsWith(`@${digest}`))
      )
  )
}

/** Saved `docker image inspect` output (an array, or one object), read from `path` for input `input`. */
export function parseSavedInspect(path: string, text: string, input: string): InspectEntry[] {
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

export type { InspectEntry }
