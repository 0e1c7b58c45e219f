import { pullRequestFromEvent, upsertStickyComment } from '../adapters/github/pull-request-comment.js'
import type { Context } from './context.js'
import { ActionError } from '../core/errors.js'
import { COMMENT_LIMIT, renderReviews, reviewMarker, type ReviewInput } from '../core/review.js'
import type { Host } from './host.js'

/** GitHub's 1 MiB step-summary limit, less room for other steps' summaries. */
const SUMMARY_LIMIT = 1024 * 1024 - 1024

/**
 * Shows the review where reviewers look: always in the job summary, and as one sticky comment on the pull
 * request when the run is for one. A read-only token (fork or Dependabot PR) is a warning, not a failure.
 */
export async function publishReview(host: Host, ctx: Context, key: string, reviews: ReviewInput[], verification = ''): Promise<void> {
  const run = host.gitHubRun()
  const withRun = reviews.map(review => ({ ...review, runUrl: run?.runUrl }))
  // The summary holds up to 1 MiB, the comment 65,536 characters: the comment's shortened diff links to the summary.
  // The verification report (a table of a few rows) goes below the review, whose limit shrinks to make room.
  const appended = verification ? `\n${verification}\n` : ''
  await host.writeSummary(renderReviews(key, withRun, SUMMARY_LIMIT - appended.length) + appended)
  const body = renderReviews(key, withRun, COMMENT_LIMIT - appended.length) + appended
  if (!run || !ctx.comment || !ctx.githubToken) return
  const pullRequest = pullRequestFromEvent(run.eventName, run.eventPath)
  if (!pullRequest) return
  let result
  try {
    result = await upsertStickyComment({ token: ctx.githubToken, apiUrl: run.apiUrl, ...pullRequest }, reviewMarker(key), body)
  } catch (error) {
    // The task definition is written and right; a GitHub outage must not fail the deploy.
    if (!(error instanceof ActionError)) throw error
    host.warning(`could not comment on pull request #${pullRequest.issueNumber}: ${error.message}; the review is in the job summary`)
    return
  }
  if (result.status === 'forbidden') {
    host.warning(
      `could not comment on pull request #${pullRequest.issueNumber} (HTTP ${result.httpStatus}: ${result.message}); ` +
        'the token is read-only here (fork or Dependabot pull requests): the review is in the job summary'
    )
    return
  }
  host.info(`${result.status} the review comment: ${result.url}`)
  host.setOutput('comment-url', result.url)
}
