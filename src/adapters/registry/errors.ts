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
