import { readFileSync } from 'node:fs'
import type { PullRequestRef } from '../../app/services.js'
import { GitHubEventError } from './errors.js'


// Only these events carry a pull request the token may comment on; push, schedule, etc. have none.
const PULL_REQUEST_EVENTS = new Set(['pull_request', 'pull_request_target'])

interface EventPayload {
  number?: unknown
  pull_request?: { number?: unknown }
  repository?: { name?: unknown; owner?: { login?: unknown } }
}

/**
 * The pull request of a `pull_request` / `pull_request_target` run, read from the GITHUB_EVENT_PATH payload;
 * the base repository's, which is where a fork's pull request lives. Undefined for any other event.
 */
export function pullRequestFromEvent(eventName: string, eventPath: string): PullRequestRef | undefined {
  if (!PULL_REQUEST_EVENTS.has(eventName)) return undefined
  if (!eventPath) throw new GitHubEventError('(GITHUB_EVENT_PATH unset)', `a ${eventName} run has no event payload file`)
  let payload: EventPayload
  try {
    payload = JSON.parse(readFileSync(eventPath, 'utf8')) as EventPayload
  } catch (error) {
    throw new GitHubEventError(eventPath, error instanceof Error ? error.message : String(error))
  }
  const issueNumber = payload.pull_request?.number ?? payload.number
  const owner = payload.repository?.owner?.login
  const repo = payload.repository?.name
  if (typeof issueNumber !== 'number' || typeof owner !== 'string' || typeof repo !== 'string') {
    throw new GitHubEventError(eventPath, `not a ${eventName} payload (no pull_request.number, repository.owner.login or repository.name)`)
  }
  return { owner, repo, issueNumber }
}
