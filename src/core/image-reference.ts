/** An image reference split the way Docker reads it (`nginx` → `docker.io/library/nginx:latest`). */
export interface ImageReference {
  registry: string
  repository: string
  tag?: string
  digest?: string
}

const DOCKER_HUB = 'docker.io'

export function parseImageReference(reference: string): ImageReference {
  let rest = reference.trim()
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at >= 0) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
  }
  let tag: string | undefined
  const lastColon = rest.lastIndexOf(':')
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1)
    rest = rest.slice(0, lastColon)
  }
  const slash = rest.indexOf('/')
  const first = slash >= 0 ? rest.slice(0, slash) : ''
  // The first segment is a registry only when it looks like a host: has a dot or port, or is localhost.
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost')
  let registry = hasRegistry ? first : DOCKER_HUB
  let repository = hasRegistry ? rest.slice(slash + 1) : rest
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DOCKER_HUB
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`
  if (!tag && !digest) tag = 'latest'
  return { registry, repository, tag, digest }
}

/** The fully qualified name, used to compare references written in different forms. */
export function canonicalImageReference(reference: string): string {
  const ref = parseImageReference(reference)
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`
}

/** `registry/name` as the registry API addresses it (`nginx` → `docker.io/library/nginx`): no tag, no digest. */
export function canonicalRepository(reference: string): string {
  const ref = parseImageReference(reference)
  return `${ref.registry}/${ref.repository}`
}

/** The repository part only, without tag or digest, as the user wrote it (`nginx:1` → `nginx`). */
export function repositoryOf(reference: string): string {
  const noDigest = reference.split('@')[0]
  const lastColon = noDigest.lastIndexOf(':')
  return lastColon > noDigest.lastIndexOf('/') ? noDigest.slice(0, lastColon) : noDigest
}
