/** Where in an input file a problem sits, so it can be annotated on the pull request's diff. */
export interface SourceLocation {
  file: string
  line?: number
  column?: number
}

/** Every failure the action reports is one of these: one clear line, optionally tied to a file position. */
export class ActionError extends Error {
  constructor(
    message: string,
    readonly location?: SourceLocation
  ) {
    super(message)
    this.name = new.target.name
  }
}

/** An action input (or CLI flag) is missing, malformed or contradicts another. */
export class InputError extends ActionError {
  constructor(
    readonly input: string,
    message: string
  ) {
    super(`input ${input}: ${message}`)
  }
}

/** The task definition file is unreadable, malformed, or asks for something impossible. */
export class TaskDefinitionError extends ActionError {
  constructor(message: string, location: SourceLocation) {
    const where = [location.file, location.line, location.column].filter(part => part !== undefined).join(':')
    super(`${where}: ${message}`, location)
  }
}

/** An image cannot be found, read, or instrumented. */
export class ImageError extends ActionError {
  constructor(
    readonly image: string,
    message: string,
    location?: SourceLocation
  ) {
    super(`image ${image}: ${message}`, location)
  }
}

/** The Docker engine is missing, or a build or push failed; `details` holds the tool's last output lines. */
export class DockerError extends ActionError {
  constructor(
    message: string,
    readonly details?: string
  ) {
    super(message)
  }
}

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
