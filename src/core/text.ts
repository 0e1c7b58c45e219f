/** The last non-empty line of a tool's output: usually the one that says what went wrong. */
export function lastLine(text: string, fallback = ''): string {
  return (
    text
      .split('\n')
      .map(line => line.trim())
      .filter(Boolean)
      .pop() ?? fallback
  )
}
