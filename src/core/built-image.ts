import { createHash } from 'node:crypto'

/**
 * The tag of a built image, derived from everything that decides its content (the Dockerfile with the pattern's
 * steps, the base image's digest and the agent image's digest), so the same inputs always name the same image
 * and a moved tag of either image names a new one.
 */
export function builtImageTag(dockerfile: string, baseDigest?: string, agentDigest?: string): string {
  const hash = createHash('sha256').update(dockerfile).update('\0').update(baseDigest ?? '').update('\0').update(agentDigest ?? '').digest('hex')
  return `lacework-${hash.slice(0, 16)}`
}
