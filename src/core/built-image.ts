import { createHash } from 'node:crypto'

/**
 * The tag of a built image, derived from everything that decides its content (the Dockerfile, which names
 * the base and agent images, and the base image's digest), so the same inputs always name the same image.
 */
export function builtImageTag(dockerfile: string, baseDigest?: string): string {
  const hash = createHash('sha256').update(dockerfile).update('\0').update(baseDigest ?? '').digest('hex')
  return `lacework-${hash.slice(0, 16)}`
}
