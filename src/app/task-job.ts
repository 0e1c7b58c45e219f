import type { TaskDefinitionFile } from '../core/task-definition.js'
import type { Architecture } from '../core/platform.js'
import type { PlannedContainer } from './plan-task.js'

/** One task definition file on its way through a run. */
export interface TaskJob {
  /** As the input names it. */
  path: string
  /** Where the result goes; undefined: standard output (the CLI without --output). */
  target?: string
  file: TaskDefinitionFile
  /** The task's CPU, from its runtimePlatform. */
  architecture: Architecture
  /** Filled in by planning. */
  planned: PlannedContainer[]
  /** Token values this file's renderings must hide. */
  secrets: string[]
}
