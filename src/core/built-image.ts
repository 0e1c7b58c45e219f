import { createHash } from 'node:crypto'
import { platformName, type Architecture } from './platform.js'

/**
 * The tag of a built image, derived from everything that decides its content (the Dockerfile with the pattern's
 * steps, the base image's digest and the agent image's digest), so the same inputs always name the same image
 * and a moved tag of either image names a new one.
 */
export function builtImageTag(dockerfile: string, baseDigest?: string, agentDigest?: string, architecture: Architecture = 'amd64'): string {
  const hash = createHash('sha256').update(dockerfile).update('\0').update(baseDigest ?? '').update('\0').update(agentDigest ?? '')
  // A multi-platform base has one digest for all its variants: the platform tells their builds apart. X86_64 adds
  // nothing, so the images built before platforms were told apart keep their tags (and re-runs find them).
  if (architecture !== 'amd64') hash.update('\0').update(platformName(architecture))
  return `lacework-${hash.digest('hex').slice(0, 16)}`
}
