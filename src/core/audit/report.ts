import { markdownCell } from '../markdown.js'
import { auditRule, type Finding } from './rules.js'

export interface FindingCounts {
  error: number
  warning: number
  note: number
  suppressed: number
}

/** Findings per level (suppressed ones counted apart): the `findings` output, and what `fail-on` weighs. */
export function countFindings(findings: readonly Finding[]): FindingCounts {
  const counts: FindingCounts = { error: 0, warning: 0, note: 0, suppressed: 0 }
  for (const finding of findings) {
    if (finding.suppressed) counts.suppressed++
    else counts[finding.level]++
  }
  return counts
}

const LEVELS = { error: 0, warning: 1, note: 2 } as const

/**
 * The audit as Markdown for the job summary and the pull request: a count line, then one row per finding, most
 * severe first, with where it is, what it is, and whether running the action on the file fixes it; suppressed
 * findings last. Rows beyond `limit` characters are left out with a note (the table's head always stays).
 */
export function auditReport(paths: readonly string[], findings: readonly Finding[], limit = 60_000): string {
  const counts = countFindings(findings)
  const head = [
    `### Lacework agent audit: ${paths.length === 1 ? paths[0] : `${paths.length} files`}`,
    '',
    findings.length === 0
      ? `No finding: every essential container runs the Lacework agent, and runs it safely.`
      : `${counts.error} error(s), ${counts.warning} warning(s), ${counts.note} note(s)${counts.suppressed ? `, ${counts.suppressed} suppressed` : ''}.`,
    ''
  ]
  if (findings.length === 0) return `${head.join('\n')}\n`
  const ordered = [...findings].sort((a, b) => Number(Boolean(a.suppressed)) - Number(Boolean(b.suppressed)) || LEVELS[a.level] - LEVELS[b.level] || a.ruleId.localeCompare(b.ruleId))
  const rows = ordered.map(finding => {
    const where = [finding.location.file, finding.location.line].filter(part => part !== undefined).join(':')
    const cells = [
      `${finding.ruleId} ${auditRule(finding.ruleId).name}`,
      finding.suppressed ? `suppressed (${finding.suppressed.justification})` : finding.level,
      where,
      finding.message,
      finding.fixedByInstrumenting ? 'yes' : 'no'
    ].map(markdownCell)
    return `| ${cells.join(' | ')} |`
  })
  const table = ['| rule | level | where | finding | fixed by running the action |', '| --- | --- | --- | --- | --- |']
  let text = [...head, ...table].join('\n')
  let shown = 0
  for (const row of rows) {
    if (text.length + row.length + 200 > limit) break
    text += `\n${row}`
    shown++
  }
  if (shown < rows.length) text += `\n\n_${rows.length - shown} more finding(s) left out to fit GitHub's size limit: the SARIF file and the annotations have them all._`
  return `${text}\n`
}
