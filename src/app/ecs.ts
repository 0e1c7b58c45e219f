import { InputError } from '../core/errors.js'
import { READ_ONLY_FIELDS } from '../core/task-definition.js'

/** A task definition's tag, as DescribeTaskDefinition answers it and RegisterTaskDefinition takes it. */
export interface EcsTag {
  key?: string
  value?: string
}

/** Task definitions read from Amazon ECS. Failures are one ActionError line each, naming what to do. */
export interface EcsTaskDefinitions {
  /** DescribeTaskDefinition with include: ["TAGS"]: `taskDefinition` is a family, family:revision or an ARN. */
  describe(taskDefinition: string): Promise<{ taskDefinition: Record<string, unknown>; tags: EcsTag[] }>
}

/** Builds the ECS client on demand: most runs read task definitions from files and never load the AWS SDK. */
export type EcsClientFactory = () => Promise<EcsTaskDefinitions>

/**
 * The described definition in the shape RegisterTaskDefinition takes, as amazon-ecs-deploy-task-definition registers
 * it: the fields only describe output has (READ_ONLY_FIELDS) dropped, the tags kept as `tags` (no member when there
 * are none), everything else as ECS returned it, in its key order.
 */
export function registrableTaskDefinition(described: Record<string, unknown>, tags: readonly EcsTag[]): Record<string, unknown> {
  const result: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(described)) {
    // `tags` is not a TaskDefinition member: the tags come from the describe answer beside it.
    if (READ_ONLY_FIELDS.includes(key) || key === 'tags' || value === undefined) continue
    result[key] = structuredClone(value)
  }
  if (tags.length > 0) {
    result.tags = tags.map(tag => ({ ...(tag.key === undefined ? {} : { key: tag.key }), ...(tag.value === undefined ? {} : { value: tag.value }) }))
  }
  return result
}

// RegisterTaskDefinition `family`: "Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed."
const FAMILY = /^[A-Za-z0-9_-]{1,255}$/
// A task definition revision's ARN (API_TaskDefinition, taskDefinitionArn), in any partition (aws, aws-cn, aws-us-gov, …).
const TASK_DEFINITION_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/([A-Za-z0-9_-]{1,255}):([1-9]\d*)$/
const REVISION = /^[1-9]\d*$/

/**
 * DescribeTaskDefinition's `taskDefinition` for the inputs `task-definition-family`, `task-definition-arn` and
 * `task-definition-revision` (blank = not given), with aws-actions/amazon-ecs-render-task-definition's meaning: an
 * ARN names one revision; a family alone its latest ACTIVE revision; family and revision `family:revision`; a
 * revision alone is refused. Where that action silently ignores an input (a family or revision beside an ARN, a
 * revision that is not a number) this refuses it unless it agrees: a pinned revision must never quietly become another.
 */
export function describeTarget(family?: string, arn?: string, revision?: string): string {
  const givenFamily = family?.trim() || undefined
  const givenArn = arn?.trim() || undefined
  const givenRevision = revision?.trim() || undefined
  if (givenRevision !== undefined && !REVISION.test(givenRevision)) {
    throw new InputError('task-definition-revision', `${JSON.stringify(givenRevision)} is not a revision number (a whole number from 1)`)
  }
  if (givenFamily !== undefined && !FAMILY.test(givenFamily)) {
    throw new InputError(
      'task-definition-family',
      `${JSON.stringify(givenFamily)} is not a task definition family (1 to 255 letters, digits, underscores and hyphens); ` +
        'give a revision in task-definition-revision'
    )
  }
  if (givenArn !== undefined) {
    const match = TASK_DEFINITION_ARN.exec(givenArn)
    if (!match) {
      throw new InputError(
        'task-definition-arn',
        `${JSON.stringify(givenArn)} is not a task definition ARN (arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>)`
      )
    }
    const [, arnFamily, arnRevision] = match
    if (givenFamily !== undefined && givenFamily !== arnFamily) {
      throw new InputError('task-definition-family', `${givenFamily} contradicts task-definition-arn, which names family ${arnFamily}: give one of them`)
    }
    if (givenRevision !== undefined && givenRevision !== arnRevision) {
      throw new InputError('task-definition-revision', `${givenRevision} contradicts task-definition-arn, which names revision ${arnRevision}: give one of them`)
    }
    return givenArn
  }
  if (givenFamily !== undefined) return givenRevision === undefined ? givenFamily : `${givenFamily}:${givenRevision}`
  if (givenRevision !== undefined) {
    throw new InputError('task-definition-revision', 'a revision alone names no task definition: give task-definition-family with it, or task-definition-arn')
  }
  throw new InputError(
    'task-definition-family',
    'no task definition to read from ECS: give task-definition-family (and task-definition-revision for a fixed revision) or task-definition-arn'
  )
}
