import * as core from '@actions/core'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { InputName } from '../../app/context.js'
import type { SourceLocation } from '../../core/errors.js'
import type { GitHubRun, Host } from '../../app/host.js'
import { pullRequestFromEvent } from '../github/pull-request.js'

function annotation(location?: SourceLocation): core.AnnotationProperties | undefined {
  return location ? { file: location.file, startLine: location.line, startColumn: location.column } : undefined
}

/** The GitHub Actions runner: inputs from INPUT_*, outputs to GITHUB_OUTPUT, annotations on the file's line. */
export class ActionsHost implements Host {
  log = process.stdout

  getInput(name: InputName): string {
    return core.getInput(name)
  }
  setSecret(value: string): void {
    // The runner warns on every empty mask (an input not given), and masks line by line: each line on its own.
    for (const line of value.split(/\r?\n/)) if (line.trim() !== '') core.setSecret(line)
  }
  info(message: string): void {
    core.info(message)
  }
  warning(message: string, location?: SourceLocation): void {
    core.warning(message, annotation(location))
  }
  notice(message: string, location?: SourceLocation): void {
    core.notice(message, annotation(location))
  }
  error(message: string, location?: SourceLocation): void {
    core.error(message, annotation(location))
  }
  setOutput(name: string, value: string): void {
    core.setOutput(name, value)
  }
  workspace(): string {
    return process.env.GITHUB_WORKSPACE || process.cwd()
  }
  outputFolder(): string {
    return join(process.env.RUNNER_TEMP || tmpdir(), 'lacework-fargate')
  }
  group<T>(name: string, work: () => Promise<T>): Promise<T> {
    return core.group(name, work)
  }
  async writeSummary(markdown: string): Promise<void> {
    if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(markdown, true).write()
  }
  gitHubRun(): GitHubRun | undefined {
    const env = process.env
    if (!env.GITHUB_EVENT_NAME) return undefined
    const runUrl =
      env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
        ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
        : undefined
    const eventName = env.GITHUB_EVENT_NAME
    return { eventName, apiUrl: env.GITHUB_API_URL ?? 'https://api.github.com', runUrl, pullRequest: () => pullRequestFromEvent(eventName, env.GITHUB_EVENT_PATH ?? '') }
  }
  writeResult(text: string): void {
    process.stdout.write(text)
  }
  fail(): void {
    process.exitCode = 1
  }
}
