import { VERSION } from '../cli/help.generated.js'
import { COMMENT_LIMIT, renderReviews, reviewFooter, reviewMarker, type ReviewInput } from '../core/review.js'
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
export async function publishReview(host: Host, services: Pick<Services, 'pullRequests'>, ctx: Context, reviews: ReviewInput[], verification = ''): Promise<void> {
  const key = sourceKey(ctx, reviews.map(review => review.taskDefinitionPath))
  const runUrl = host.gitHubRun()?.runUrl
  const withRun = reviews.map(review => ({ ...review, runUrl }))
  // The summary holds up to 1 MiB, the comment 65,536 characters: the comment's shortened diff links to the summary.
  // The verification report (a table of a few rows) goes below the review, whose limit shrinks to make room.
  // The footer is last, under the verification report: it says which version wrote everything above it.
  const appended = (verification ? `\n${verification}\n` : '') + reviewFooter(VERSION)
  await publish(host, services, ctx, 'the task definition is written', {
    marker: reviewMarker(key),
    summary: () => renderReviews(key, withRun, SUMMARY_LIMIT - appended.length) + appended,
    comment: () => renderReviews(key, withRun, COMMENT_LIMIT - appended.length) + appended
  })
}

/**
 * What a run's comment is found again by: the task-definition input as given, or — for a task definition fetched from
 * ECS, where that input is empty — the sources read, so that two families' runs on one pull request keep a comment each.
 */
export function sourceKey(ctx: Pick<Context, 'taskDefinition'>, paths: readonly string[]): string {
  return ctx.taskDefinition || paths.join('\n')
}

/** Markdown made elsewhere (the audit's report), shown the same way: summary, and one sticky comment under `key`. */
export async function publishMarkdown(host: Host, services: Pick<Services, 'pullRequests'>, ctx: Context, key: string, markdown: string): Promise<void> {
  const marker = reviewMarker(key)
  const signed = markdown + reviewFooter(VERSION)
  await publish(host, services, ctx, 'the findings still set the exit status', { marker, summary: () => signed, comment: () => `${marker}\n${signed}` })
}

interface Publication {
  marker: string
  summary: () => string
  comment: () => string
}

/** `regardless` says, in the one warning, what a failed publication does not stop. */
async function publish(host: Host, services: Pick<Services, 'pullRequests'>, ctx: Context, regardless: string, publication: Publication): Promise<void> {
  try {
    await post(host, services, ctx, publication)
  } catch (error) {
    host.warning(`the review could not be published: ${(error as Error).message.split('\n')[0]}; ${regardless}`)
  }
}

async function post(host: Host, services: Pick<Services, 'pullRequests'>, ctx: Context, publication: Publication): Promise<void> {
  const run = host.gitHubRun()
  await host.writeSummary(publication.summary())
  if (!run || !ctx.comment || !ctx.githubToken) return
  const pullRequest = run.pullRequest()
  if (!pullRequest) return
  const body = publication.comment()
  let result
  try {
    const comments = await services.pullRequests(ctx.githubToken, run.apiUrl)
    result = await comments.upsertStickyComment(pullRequest, publication.marker, body)
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
