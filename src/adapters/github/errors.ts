import { ActionError } from '../../core/errors.js'

/** GitHub's API answered with a failure other than "not allowed", or could not be reached. */
export class GitHubApiError extends ActionError {
  constructor(
    readonly operation: string,
    readonly httpStatus: number | undefined,
    detail: string
  ) {
    super(`GitHub API: ${operation} failed${httpStatus ? ` (HTTP ${httpStatus})` : ''}: ${detail}`)
  }
}

/** The event payload file named by GITHUB_EVENT_PATH is missing, unreadable or not the pull request it claims. */
export class GitHubEventError extends ActionError {
  constructor(eventPath: string, message: string) {
    super(`event payload ${eventPath}: ${message}`, { file: eventPath })
  }
}
