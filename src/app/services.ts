import type { InspectEntry } from '../core/image-facts.js'
import type { ImageConfigResult, ManifestResult, Platform } from '../core/oci.js'
import type { TaskDefinition } from '../core/task-definition.js'
import type { VerifyOptions, VerifyReport } from '../verify/types.js'
import type { EcsClientFactory } from './ecs.js'

/**
 * What a run needs from the outside world, built once by the entry point (src/index.ts, src/cli.ts) and handed to
 * `run`: the application steps never create an engine or client themselves, so tests give them in-memory fakes.
 */
export interface Services {
  files: Files
  docker: DockerEngine
  /** A registry client for the run (one per run: it keeps tokens and the image configs it read). */
  registry(options: RegistryOptions): Registry
  /** Starts a rewritten task locally with ECS semantics and reports whether it runs (input `verify`). */
  verifier: Verifier
  /** ECS's task definitions (inputs task-definition-family / -arn); the AWS SDK is loaded only when asked. */
  ecs: EcsClientFactory
  /** The pull-request comments; the GitHub client is loaded only when a review is published. */
  pullRequests(token: string, apiUrl: string): Promise<PullRequestComments>
}

/** The task definitions and what the run writes: the local file system. Failures carry the file they are about. */
export interface Files {
  /** The files an input names: paths and globs, one per line (a glob that matches nothing is an InputError). */
  resolveTaskDefinitions(input: string): Promise<string[]>
  /** A task definition's text: a regular file within the size limit, else a TaskDefinitionError. */
  readTaskDefinition(path: string): Promise<string>
  /** Saved `docker image inspect` output (input `input`). */
  readSavedInspect(path: string, input: string): Promise<InspectEntry[]>
  /** Fails before any work when `path` cannot become a file (a folder, or under a file). */
  checkOutputPath(path: string, input: string): Promise<void>
  /** Readers see nothing, or the whole file. */
  writeAtomically(path: string, text: string): Promise<void>
}

export type EngineAnswer = { ok: true; version: string } | { ok: false; reason: string }

/** The first of the asked commands an image has, or why none is known. */
export type FoundCommand = string | 'none' | 'no-shell' | 'cannot-run'

/** A Docker engine, through its command line. Failures are DockerError / ImageError with one line each. */
export interface DockerEngine {
  serverVersion(): Promise<EngineAnswer>
  /** `docker image inspect`; undefined when the engine does not have the image. */
  inspect(reference: string): Promise<InspectEntry | undefined>
  pull(reference: string, platform?: string): Promise<void>
  build(dockerfile: string, tag: string, platform: string): Promise<void>
  /** Pushes `tag`; the digest the registry stored it under. */
  push(tag: string): Promise<string>
  findCommand(image: string, commands: string[], platform: string): Promise<FoundCommand>
}

export interface RegistryOptions {
  /** Registries (`host:port` or host) reached over plain HTTP although not on loopback. */
  insecureRegistries: string[]
}

/**
 * OCI registries, through the distribution API. A missing manifest is RegistryError with status 404; an index
 * without the platform asked for is PlatformMissingError.
 */
export interface Registry {
  getManifest(reference: string): Promise<ManifestResult>
  getImageConfig(reference: string, platform?: Platform): Promise<ImageConfigResult>
  /** Whether `repository` (`registry/name`) holds the blob. */
  blobExists(repository: string, digest: string): Promise<boolean>
  getBlob(repository: string, digest: string): Promise<Buffer>
  /**
   * Streams the blob into the sink `open` returns, chunk by chunk as it arrives, without keeping it: a fresh sink for
   * each attempt (a failed attempt's sink is aborted). Once every byte is in and matched `digest`, the last sink's
   * `end()`; a mismatch is a RegistryError and that sink is aborted too.
   */
  readBlob<T>(repository: string, digest: string, open: () => BlobSink<T>): Promise<T>
  /** Mounts a blob from another repository of the same registry; false when the registry would not. */
  mountBlob(targetRepository: string, digest: string, fromRepository: string): Promise<boolean>
  uploadBlob(repository: string, digest: string, bytes: Buffer): Promise<void>
  /** Pushes a manifest under `tag` (or a digest); its digest. */
  putManifest(repository: string, tag: string, mediaType: string, bytes: Buffer): Promise<string>
}

/** Where a blob read by `Registry.readBlob` goes: one per attempt. */
export interface BlobSink<T> {
  /** The next bytes as they arrive; nothing more is read until a returned promise settles. A throw ends the read (not retried). */
  write(chunk: Buffer): void | Promise<void>
  /** Every byte was written and matched the digest: the consumer's result. */
  end(): T | Promise<T>
  /** The attempt failed (cut off, timed out, not the digest): what was written is discarded, and `end` is never called. */
  abort(reason: Error): void
}

export type Verifier = (definition: TaskDefinition, options: VerifyOptions) => Promise<VerifyReport>

/** Where the review comment goes. */
export interface PullRequestRef {
  owner: string
  repo: string
  issueNumber: number
}

export type StickyCommentResult = { status: 'created' | 'updated'; url: string } | { status: 'forbidden'; httpStatus: number; message: string }

/** One comment per marker on a pull request, updated in place. */
export interface PullRequestComments {
  upsertStickyComment(pullRequest: PullRequestRef, marker: string, body: string): Promise<StickyCommentResult>
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  sleep(ms: number): Promise<void>
}
