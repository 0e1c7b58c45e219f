import { getOctokit } from '@actions/github'
import type { PullRequestComments, StickyCommentResult } from '../../app/services.js'
import { maskSecrets } from '../../core/secrets.js'
import { GitHubApiError } from './errors.js'

export interface StickyCommentTarget {
  token: string
  /** GITHUB_API_URL: https://api.github.com, or a GitHub Enterprise Server's /api/v3. */
  apiUrl: string
  owner: string
  repo: string
  issueNumber: number
  /** Comments per listing page; GitHub allows at most 100. */
  perPage?: number
}

/** The pull-request comments through GitHub's REST API (`token` needs `pull-requests: write`). */
export function createPullRequestComments(token: string, apiUrl: string): PullRequestComments {
  return { upsertStickyComment: (pullRequest, marker, body) => upsertStickyComment({ token, apiUrl, ...pullRequest }, marker, body) }
}

/** GitHub's HTTP status, from Octokit's RequestError by shape (its class is a transitive dependency). */
function httpStatusOf(error: unknown): number | undefined {
  const { status, response } = (error ?? {}) as { status?: unknown; response?: unknown }
  // Octokit reports an unreachable server as status 500 with no response; that is no HTTP answer at all.
  return typeof status === 'number' && response !== undefined ? status : undefined
}

/** Whether one of a comment's lines is exactly the marker; a reply quoting it ("> <!-- … -->") is not ours. */
function carriesMarker(body: string | undefined, marker: string): boolean {
  return (body ?? '').split(/\r?\n/).some(line => line.trimEnd() === marker)
}

/**
 * Keeps one comment per marker on the pull request: updates the comment carrying `marker` in place, or creates
 * it. A read-only token (fork or Dependabot pull request) gives `forbidden` instead of an error.
 */
export async function upsertStickyComment(target: StickyCommentTarget, marker: string, body: string): Promise<StickyCommentResult> {
  const octokit = getOctokit(target.token, { baseUrl: target.apiUrl })
  const issue = { owner: target.owner, repo: target.repo, issue_number: target.issueNumber }
  // Without the marker the next run could not find this comment and would add another.
  const text = carriesMarker(body, marker) ? body : `${marker}\n${body}`
  let operation = `list comments of ${target.owner}/${target.repo}#${target.issueNumber}`
  try {
    let existing: number | undefined
    // The iterator follows the Link header page by page and stops as soon as the comment is found.
    for await (const page of octokit.paginate.iterator(octokit.rest.issues.listComments, { ...issue, per_page: target.perPage ?? 100 })) {
      existing = page.data.find(comment => carriesMarker(comment.body, marker))?.id as number | undefined
      if (existing !== undefined) break
    }
    if (existing !== undefined) {
      operation = `update comment ${existing} on ${target.owner}/${target.repo}#${target.issueNumber}`
      const { data } = await octokit.rest.issues.updateComment({ owner: target.owner, repo: target.repo, comment_id: existing, body: text })
      return { status: 'updated', url: data.html_url }
    }
    operation = `create a comment on ${target.owner}/${target.repo}#${target.issueNumber}`
    const { data } = await octokit.rest.issues.createComment({ ...issue, body: text })
    return { status: 'created', url: data.html_url }
  } catch (error) {
    const status = httpStatusOf(error)
    // GitHub's own message, with the token hidden in case a proxy or server ever echoes it.
    const message = maskSecrets(error instanceof Error ? error.message : String(error), [target.token]).split('\n')[0]
    if (status === 403 || status === 404) return { status: 'forbidden', httpStatus: status, message }
    throw new GitHubApiError(operation, status, message)
  }
}
