/** Text that renders as itself in GitHub Markdown, inside a table cell or a heading: one line, nothing interpreted. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>|~&]/g, '\\$&')
}

/** A table cell: escaped, line breaks as `<br>` (the only break a cell can hold), `—` when empty. */
export function markdownCell(text: string): string {
  if (text === '') return '—'
  return text.split(/\r?\n/).map(escapeMarkdown).join('<br>')
}
