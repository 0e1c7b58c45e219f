import { posix } from 'node:path'
import { escapeMarkdown, markdownCell } from './markdown.js'
import { patternName, type Pattern } from './pattern.js'
import { maskSecrets } from './secrets.js'

/** What the action decided for one container, as a reviewer needs to see it. */
export interface ContainerReview {
  container: string
  /** Effective user; '' means root by default. */
  user: string
  /** Undefined for a container left alone (`skipped` says why). */
  pattern?: Pattern
  /** Why that pattern, e.g. 'image user 101 → non-root; strategy sudo'. */
  reason: string
  imageBefore: string
  /** May be repo@sha256:… when an image was built. */
  imageAfter: string
  agentImage?: string
  alreadyInstrumented: boolean
  warnings: string[]
  /** Why the container is not instrumented: another vendor's agent, a log router, a proxy. */
  skipped?: string
}

export interface ReviewInput {
  taskDefinitionPath: string
  containers: ContainerReview[]
  /** The rewritten task as Mermaid blocks (task-diagram.ts), one per task of the file; kept whole when the diff is shortened. */
  diagrams?: string[]
  /** Unified diff text (may be ''), already masked. */
  diff: string
  changed: boolean
  /** Link to the run's summary, given when the diff has to be shortened. */
  runUrl?: string
  secrets?: string[]
}

/** GitHub's maximum pull-request comment body, in characters. */
export const COMMENT_LIMIT = 65536

/** The hidden line that finds this task definition's earlier comment; one per path, however the path is spelled. */
export function reviewMarker(taskDefinitionPath: string): string {
  const normal = posix.normalize(taskDefinitionPath.replace(/\\/g, '/'))
  // '>' (as in '-->') or a line break would end the hidden comment early and show the rest.
  const safe = normal.replace(/[\r\n]+/g, ' ').replace(/>/g, '%3E')
  return `<!-- lacework-fargate: ${safe} -->`
}

/** Masked before escaping: escaping could split a secret (lw_… → lw\\_…) so that masking no longer finds it. */
function cell(text: string, secrets: readonly string[]): string {
  return markdownCell(maskSecrets(text, secrets))
}

function row(review: ContainerReview, secrets: readonly string[]): string {
  const text = (value: string): string => cell(value, secrets)
  const image =
    review.imageBefore === review.imageAfter
      ? `${text(review.imageBefore)} (unchanged)`
      : `${text(review.imageBefore)} → ${text(review.imageAfter)}`
  const cells = [
    text(review.container),
    review.skipped ? '—' : review.user === '' ? 'root (default)' : text(review.user),
    review.pattern ? text(patternName(review.pattern)) + (review.alreadyInstrumented ? ' (already instrumented)' : '') : 'not instrumented',
    text(review.skipped ?? review.reason),
    image,
    text(review.agentImage ?? ''),
    review.warnings.length === 0 ? '—' : review.warnings.map(text).join('<br>')
  ]
  return `| ${cells.join(' | ')} |`
}

function table(containers: readonly ContainerReview[], secrets: readonly string[]): string[] {
  return [
    '| container | user | pattern | why | image before → after | agent image | warnings |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...containers.map(review => row(review, secrets))
  ]
}

/** A fence longer than any backtick run in the diff, so a ``` inside a JSON string cannot close the block. */
function fenceFor(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map(run => run.length))
  return '`'.repeat(Math.max(3, longest + 1))
}

function plural(count: number, word: string): string {
  return `${count.toLocaleString('en-US')} ${word}${count === 1 ? '' : 's'}`
}

/**
 * The review as Markdown: marker, heading, decision table, the task's diagrams, then the diff. Over `limit`,
 * whole diff lines are left out (never table rows, never the diagram) and the note links to the run; the result,
 * secrets masked, is never over `limit`.
 */
export function renderReview(input: ReviewInput, limit = COMMENT_LIMIT): string {
  const secrets = input.secrets ?? []
  const head = [reviewMarker(input.taskDefinitionPath), `### Lacework agent: ${escapeMarkdown(maskSecrets(input.taskDefinitionPath, secrets))}`, '', ...table(input.containers, secrets), '']
  const diagrams = (input.diagrams ?? []).flatMap(diagram => [diagram, ''])
  const showDiff = input.changed && input.diff !== ''
  const lines = showDiff ? input.diff.replace(/\r?\n$/, '').split(/\r?\n/) : []
  const fence = fenceFor(input.diff)
  const where = input.runUrl ? `the [run's summary](${input.runUrl})` : "the run's summary"

  // Masked as a whole (a secret could span a line break); a kept line is whole, so no secret is cut in half.
  const assemble = (kept: number): string => {
    const parts = [...head, ...diagrams]
    if (!showDiff) parts.push('No change to the task definition.')
    else {
      parts.push(fence + 'diff', ...lines.slice(0, kept), fence)
      if (kept < lines.length) {
        parts.push(
          '',
          `_Diff shortened to fit the ${limit.toLocaleString('en-US')}-character limit: ${plural(lines.length - kept, 'line')} of ${lines.length.toLocaleString('en-US')} left out. The full diff is in ${where}._`
        )
      }
    }
    return maskSecrets(parts.join('\n') + '\n', secrets)
  }

  const full = assemble(lines.length)
  if (full.length <= limit) return full
  if (assemble(0).length > limit) return shortenTable(maskSecrets(head.join('\n'), secrets), where, limit)
  // Binary search for the most diff lines that fit; `low` always fits, `high` never does.
  let low = 0
  let high = lines.length
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2)
    if (assemble(middle).length <= limit) low = middle
    else high = middle
  }
  return assemble(low)
}

/** Last resort when the table alone is over the limit (thousands of warnings): whole lines of it, then a note. */
function shortenTable(maskedHead: string, where: string, limit: number): string {
  const note = `\n\n_Review shortened to fit the ${limit.toLocaleString('en-US')}-character limit. The full review is in ${where}._\n`
  const room = limit - note.length
  if (room <= 0) return maskedHead.slice(0, limit)
  const cut = maskedHead.lastIndexOf('\n', room)
  return (cut > 0 ? maskedHead.slice(0, cut) : maskedHead.slice(0, room)) + note
}

/**
 * Several task definitions in one comment, a collapsible section each, under one marker (the input as given).
 * Each section gets an equal share of the limit, so the whole is never over it.
 */
export function renderReviews(key: string, inputs: ReviewInput[], limit = COMMENT_LIMIT): string {
  if (inputs.length === 1) return renderReview(inputs[0], limit)
  const changed = inputs.filter(input => input.changed).length
  const head = `${reviewMarker(key)}\n### Lacework agent: ${inputs.length} task definitions, ${changed} changed\n\n`
  const wrapper = (summary: string): [string, string] => [`<details><summary>${summary}</summary>\n\n`, '\n</details>\n\n']
  const summaries = inputs.map(input => {
    const secrets = input.secrets ?? []
    const patterns = [...new Set(input.containers.flatMap(container => (container.pattern ? [patternName(container.pattern)] : [])))].join(', ')
    return escapeMarkdown(maskSecrets(`${input.taskDefinitionPath}: ${input.changed ? patterns : 'no change'}`, secrets))
  })
  const overhead = head.length + summaries.reduce((sum, summary) => sum + wrapper(summary).join('').length, 0)
  const share = Math.floor((limit - overhead) / inputs.length)
  const sections = inputs.map((input, index) => {
    // Each section's own marker line is dropped: the comment is found by the one marker above.
    const body = renderReview(input, share + reviewMarker(input.taskDefinitionPath).length + 1)
    const [open, close] = wrapper(summaries[index])
    return open + body.slice(body.indexOf('\n') + 1) + close
  })
  return head + sections.join('')
}

/** The last line of every review (after the verification report too): which action, at which version, wrote it. */
export function reviewFooter(version: string): string {
  return `\n<sub>Written by lacework-fargate v${escapeMarkdown(version)}.</sub>\n`
}
