import type { Writable } from 'node:stream'
import type { InputName } from './context.js'
import type { SourceLocation } from '../core/errors.js'
import type { PullRequestRef } from './services.js'

/** What the run needs from where it runs: a GitHub Actions runner, or a terminal (the CLI). */
export interface Host {
  getInput(name: InputName): string
  /** Hide a value in everything logged from now on. */
  setSecret(value: string): void
  info(message: string): void
  warning(message: string, location?: SourceLocation): void
  /** A note: an annotation of the lowest level (the audit's `note` findings). */
  notice(message: string, location?: SourceLocation): void
  error(message: string, location?: SourceLocation): void
  setOutput(name: string, value: string): void
  /** The repository's root (the runner's workspace, else the working directory): what SARIF locations are relative to. */
  workspace(): string
  /** The folder rewritten task definitions go to when no output is given; undefined: standard output. */
  outputFolder(): string | undefined
  /** Writes the result to standard output (the CLI without --output). */
  writeResult(text: string): void
  /** Runs `work` with its log lines folded under `name`. */
  group<T>(name: string, work: () => Promise<T>): Promise<T>
  /** Writes the job summary (a no-op where there is none). */
  writeSummary(markdown: string): Promise<void>
  /** The GitHub run this is, for the pull-request comment; undefined outside GitHub Actions. */
  gitHubRun(): GitHubRun | undefined
  /** Where long tool output (docker build) goes. */
  log: Writable
  fail(): void
}

export interface GitHubRun {
  eventName: string
  apiUrl: string
  /** The run's page, where the summary is. */
  runUrl?: string
  /** The pull request a `pull_request` or `pull_request_target` run is for (read from the event payload); throws when the payload is unreadable. */
  pullRequest(): PullRequestRef | undefined
}
