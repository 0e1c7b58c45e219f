import { ActionError } from '../../core/errors.js'

/** A registry request failed: one line naming the registry, the repository and the HTTP status, never a secret. */
export class RegistryError extends ActionError {
  constructor(
    readonly registry: string,
    readonly repository: string | undefined,
    message: string,
    readonly status?: number
  ) {
    super(`registry ${registry}${repository ? `, repository ${repository}` : ''}: ${message}${status === undefined ? '' : ` (HTTP ${status})`}`)
  }
}

/**
 * An operation that kept failing in a retryable way (429, 5xx, reset, refused, timed out, cut short) until its
 * attempts or its time budget ran out: names the operation, the attempts and the last failure.
 */
export class RegistryRetryError extends RegistryError {
  constructor(
    registry: string,
    repository: string | undefined,
    readonly operation: string,
    readonly attempts: number,
    readonly elapsedMs: number,
    readonly reason: string,
    status?: number,
    readonly stopped?: string
  ) {
    super(registry, repository, `${operation} failed after ${attempts} attempt${attempts === 1 ? '' : 's'}${stopped ? ` (${stopped})` : ''}: ${reason}`, status)
  }
}

/** The registry's own error code and message when it sent the spec's JSON (`MANIFEST_UNKNOWN: manifest unknown`). */
export function registryErrorDetail(body: Buffer): string | undefined {
  try {
    const first = (JSON.parse(body.toString('utf8')) as { errors?: Array<{ code?: string; message?: string }> }).errors?.[0]
    const detail = first ? [first.code, first.message].filter(Boolean).join(': ') : ''
    return detail ? detail.replace(/[^\x20-\x7e]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300) : undefined
  } catch {
    return undefined
  }
}

/** An image index holds no variant for the platform asked for: names what it holds instead. */
export class PlatformMissingError extends RegistryError {
  constructor(
    registry: string,
    repository: string,
    readonly reference: string,
    readonly platform: string,
    readonly present: string[]
  ) {
    super(registry, repository, `${reference} has no ${platform} image; it has ${present.join(', ') || 'no runnable image'}`)
  }
}
