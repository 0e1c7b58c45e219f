// Reading the CLI's --help back into flags, so that tests compare it with action.yml by meaning, not by layout.

/** --help's flag blocks: `  --name…`, the description lines, then `default: …` when there is one. */
export function helpFlags(text: string): Map<string, { description: string; default?: string }> {
  const flags = new Map<string, { description: string; default?: string }>()
  let current: { description: string; default?: string } | undefined
  for (const line of text.split('\n')) {
    const head = /^ {2}--([a-z0-9-]+)(?:\[=true\|false\]| <value>)$/.exec(line)
    if (head) {
      current = { description: '' }
      flags.set(head[1], current)
    } else if (current && line.startsWith('      default: ')) {
      current.default = line.slice('      default: '.length)
    } else if (current && line.startsWith('      ')) {
      current.description = `${current.description} ${line.trim()}`.trim()
    } else {
      current = undefined
    }
  }
  return flags
}
