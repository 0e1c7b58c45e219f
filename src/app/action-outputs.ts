import { patternName } from '../core/pattern.js'
import type { Host } from './host.js'
import type { RewrittenFile } from './rewrite-tasks.js'
import type { Files } from './services.js'

/** Writes each result where it goes (through a temporary file and a rename), or to standard output. */
export async function writeResults(host: Host, files: Files, results: RewrittenFile[]): Promise<void> {
  for (const result of results) {
    if (result.job.target) await files.writeAtomically(result.job.target, result.text)
    else host.writeResult(result.text)
  }
}

/**
 * The action's outputs: `task-definition`, `image`, `pattern` and `changed`. A single file's are plain values;
 * several files' become JSON maps keyed by input path.
 */
export function setActionOutputs(host: Host, results: RewrittenFile[]): void {
  const perFile = (name: string, value: (result: RewrittenFile) => string): void => {
    if (results.length === 1) {
      const single = value(results[0])
      if (single) host.setOutput(name, single)
    } else {
      host.setOutput(name, JSON.stringify(Object.fromEntries(results.map(result => [result.job.path, value(result)]))))
    }
  }
  // A container is named by itself, or `Resource/name` in a template of several task definitions.
  const name = (result: RewrittenFile, change: RewrittenFile['changes'][number]): string =>
    change.task.id && result.job.tasks.length > 1 ? `${change.task.id}/${change.plan.container}` : change.plan.container
  const byContainer = (result: RewrittenFile, field: (change: RewrittenFile['changes'][number]) => string): string =>
    result.changes.length === 1 ? field(result.changes[0]) : result.changes.map(change => `${name(result, change)}=${field(change)}`).join(',')
  perFile('task-definition', result => result.job.target ?? '')
  perFile('image', result => byContainer(result, change => change.runs))
  perFile('pattern', result => result.changes.map(change => `${name(result, change)}=${patternName(change.plan.pattern)}`).join(','))
  host.setOutput('changed', String(results.some(result => result.changed)))
}
