import { patternName } from '../core/pattern.js'
import type { Host } from './host.js'
import type { RewrittenTask } from './rewrite-tasks.js'
import type { Files } from './services.js'

/** Writes each result where it goes (through a temporary file and a rename), or to standard output. */
export async function writeResults(host: Host, files: Files, results: RewrittenTask[]): Promise<void> {
  for (const result of results) {
    if (result.job.target) await files.writeAtomically(result.job.target, result.text)
    else host.writeResult(result.text)
  }
}

/**
 * The action's outputs: `task-definition`, `image`, `pattern` and `changed`. A single file's are plain values;
 * several files' become JSON maps keyed by input path.
 */
export function setActionOutputs(host: Host, results: RewrittenTask[]): void {
  const perFile = (name: string, value: (result: RewrittenTask) => string): void => {
    if (results.length === 1) {
      const single = value(results[0])
      if (single) host.setOutput(name, single)
    } else {
      host.setOutput(name, JSON.stringify(Object.fromEntries(results.map(result => [result.job.path, value(result)]))))
    }
  }
  const byContainer = (result: RewrittenTask, field: (change: RewrittenTask['changes'][number]) => string): string =>
    result.changes.length === 1 ? field(result.changes[0]) : result.changes.map(change => `${change.plan.container}=${field(change)}`).join(',')
  perFile('task-definition', result => result.job.target ?? '')
  perFile('image', result => byContainer(result, change => change.image))
  perFile('pattern', result => result.changes.map(change => `${change.plan.container}=${patternName(change.plan.pattern)}`).join(','))
  host.setOutput('changed', String(results.some(result => result.changed)))
}
