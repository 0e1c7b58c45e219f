import { escapeMarkdown } from '../core/markdown.js'
import type { VerifyReport } from './types.js'

const MAX_EVIDENCE = 300

/** A markdown table cell: one line, bounded, nothing in it read as markup. */
function cell(text: string): string {
  const line = text.replace(/\r?\n/g, ' ⏎ ').replace(/\s+/g, ' ').trim()
  const bounded = line.length > MAX_EVIDENCE ? `${line.slice(0, MAX_EVIDENCE - 1)}…` : line
  return escapeMarkdown(bounded) || ' '
}

/** The report for the log, the job summary and the pull request: a status line, then container | check | result | evidence. */
export function renderVerifyReport(report: VerifyReport): string {
  const lines = [report.ok ? '**verify: the task starts as Fargate would run it** ✅' : `**verify failed** ❌: ${cell(report.failure ?? 'a check failed')}`, '']
  if (report.checks.length) {
    lines.push('| container | check | result | evidence |', '|---|---|---|---|')
    for (const check of report.checks) lines.push(`| ${cell(check.container)} | ${cell(check.check)} | ${check.ok ? '✅ pass' : '❌ fail'} | ${cell(check.evidence)} |`)
  }
  return `${lines.join('\n')}\n`
}
