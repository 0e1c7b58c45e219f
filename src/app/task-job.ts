import type { ResolveContext } from '../core/cloudformation.js'
import type { EditableDocument } from '../core/document.js'
import type { Architecture } from '../core/platform.js'
import type { SourceFile } from '../core/task-source.js'
import type { TaskDefinition } from '../core/task-definition.js'
import type { PlannedContainer } from './plan-task.js'

/** One file on its way through a run: it holds one task definition, or several (a template's resources). */
export interface SourceJob {
  /** As the input names it. */
  path: string
  /** Where the result goes; undefined: standard output (the CLI without --output). */
  target?: string
  source: SourceFile
  tasks: TaskJob[]
  /** Token values this file's renderings must hide. */
  secrets: string[]
}

/** One task definition of a file. */
export interface TaskJob {
  /** The file, and for a template the resource: `deploy/stack.yaml#WebTask`; what messages name. */
  label: string
  /** '' for a file that is one task; a template's logical id. */
  id: string
  /** The task as ECS names its fields (camelCase paths), over the file's own document. */
  view: EditableDocument
  definition: TaskDefinition
  /** The task's CPU, from its runtimePlatform (or the cpu-architecture input where the file cannot say). */
  architecture: Architecture
  /** Filled in by planning. */
  planned: PlannedContainer[]
  /** For a template's task: what resolves an `Image` given by an intrinsic function (template parameters, account, region). */
  resolve?: ResolveContext
  /** Essential containers left alone by default (another vendor's agent, a log router, a proxy), and why. */
  skipped: { container: string; image: string; why: string }[]
}
