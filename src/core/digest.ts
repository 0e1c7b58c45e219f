import { createHash } from 'node:crypto'

const ALGORITHMS: Record<string, string> = { sha256: 'sha256', sha512: 'sha512' }

/** `sha256:<hex>` of the exact bytes (a string as its UTF-8): content addresses are over bytes, never over re-serialised JSON. */
export function digestOf(bytes: Uint8Array | string, algorithm = 'sha256'): string {
  const hash = ALGORITHMS[algorithm]
  if (!hash) throw new Error(`unsupported digest algorithm ${algorithm}`)
  return `${algorithm}:${createHash(hash).update(bytes).digest('hex')}`
}

/** A well-formed digest the registry API accepts: `sha256:` + 64 hex digits, or `sha512:` + 128. */
export function isDigest(value: string): boolean {
  return /^sha256:[a-f0-9]{64}$/.test(value) || /^sha512:[a-f0-9]{128}$/.test(value)
}

/** Whether `bytes` are the content `digest` names (in that digest's own algorithm). */
export function matchesDigest(bytes: Uint8Array, digest: string): boolean {
  return isDigest(digest) && digestOf(bytes, digest.slice(0, digest.indexOf(':'))) === digest
}
