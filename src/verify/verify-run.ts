import type { Context } from '../app/context.js'
import type { Host } from '../app/host.js'
import type { PlannedContainer } from '../app/plan-task.js'
import type { Verifier } from '../app/services.js'
import { ActionError } from '../core/errors.js'
import { keepsAppUser } from '../core/pattern.js'
import type { TaskDefinition } from '../core/task-definition.js'
import { renderVerifyReport } from './report.js'

/** The rewritten task failed to start the way Fargate would start it; `report` is the Markdown report so far. */
export class VerificationError extends ActionError {
  constructor(
    message: string,
    readonly report: string
  ) {
    super(message)
  }
}

/** The user the app's own process must end up as: the image's in the sudo and drop patterns, else root. */
function appUser({ plan }: PlannedContainer): string {
  return keepsAppUser(plan.pattern) ? plan.effective.user.split(':')[0] : '0'
}

/**
 * Starts each rewritten task definition with ECS semantics and checks that it runs; returns the report as Markdown
 * for the review. A failing check fails the run (VerificationError, carrying the report so far).
 */
export async function verifyRewrites(host: Host, verify: Verifier, ctx: Context, tasks: { path: string; definition: TaskDefinition; planned: PlannedContainer[] }[]): Promise<string> {
  const reports: string[] = []
  for (const task of tasks) {
    const report = await host.group(`verify ${task.path}`, () =>
      verify(task.definition, {
        timeoutSeconds: ctx.verifyTimeout,
        expectations: task.planned.map(planned => ({ container: planned.plan.container, pattern: planned.plan.pattern, appUser: appUser(planned) }))
      })
    )
    const table = renderVerifyReport(report)
    host.info(table)
    reports.push(`#### Verification of ${task.path}: ${report.ok ? 'it starts' : 'it would not start'}\n\n${table}`)
    if (!report.ok) throw new VerificationError(`${task.path}: ${report.failure ?? 'verification failed'}`, reports.join('\n\n'))
  }
  return reports.join('\n\n')
}
