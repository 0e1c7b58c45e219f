import { COMMENT_LIMIT, renderReviews, reviewMarker, type ReviewInput } from '../core/review.js'
import type { Context } from './context.js'
import type { Host } from './host.js'
import type { Services } from './services.js'

/** GitHub's 1 MiB step-summary limit, less room for other steps' summaries. */
const SUMMARY_LIMIT = 1024 * 1024 - 1024

/**
 * Shows the review where reviewers look: always in the job summary, and as one sticky comment on the pull request
 * when the run is for one. Nothing here can fail a deploy whose files are written: a read-only token (fork or
 * Dependabot pull request), an unreadable event payload, GitHub being down — each is one warning.
 */
export async function publishReview(host: Host, services: Pick<Services, 'pullRequests'>, ctx: Context, key: string, reviews: ReviewInput[], verification = ''): Promise<void> {
  try {
    await publish(host, services, ctx, key, reviews, verification)
  } catch (error) {
    host.warning(`the review could not be published: ${(error as Error).message.split('\n')[0]}; the task definition is written`)
  }
}

async function publish(host: Host, services: Pick<Services, 'pullRequests'>, ctx: Context, key: string, reviews: ReviewInput[], verification: string): Promise<void> {
  const run = host.gitHubRun()
  const withRun = reviews.map(review => ({ ...review, runUrl: run?.runUrl }))
  // The summary holds up to 1 MiB, the comment 65,536 characters: the comment's shortened diff links to the summary.
  // The verification report (a table of a few rows) goes below the review, whose limit shrinks to make room.
  const appended = verification ? `\n${verification}\n` : ''
  await host.writeSummary(renderReviews(key, withRun, SUMMARY_LIMIT - appended.length) + appended)
  if (!run || !ctx.comment || !ctx.githubToken) return
  const pullRequest = run.pullRequest()
  if (!pullRequest) return
  const body = renderReviews(key, withRun, COMMENT_LIMIT - appended.length) + appended
  let result
  try {
    const comments = await services.pullRequests(ctx.githubToken, run.apiUrl)
    result = await comments.upsertStickyComment(pullRequest, reviewMarker(key), body)
  } catch (error) {
    host.warning(`could not comment on pull request #${pullRequest.issueNumber}: ${(error as Error).message.split('\n')[0]}; the review is in the job summary`)
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
