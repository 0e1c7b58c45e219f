import { parse } from 'yaml'

/*
 * What aws-actions/amazon-ecs-deploy-task-definition does to a task definition file before RegisterTaskDefinition,
 * step for step, so tests can check that a file this action writes survives the deploy action unchanged in meaning.
 *
 * Source: repository aws-actions/amazon-ecs-deploy-task-definition, path index.js, commit
 * 7f8154eded4e7c13dc5109317fba150564555ef6; the v2.3 index.js (@aws-sdk/client-ecs v3, run-task, volume
 * configurations) has the same six functions and the same line in run():
 *
 *   const taskDefContents = maintainValidObjects(removeIgnoredAttributes(cleanNullKeys(yaml.parse(fileContents))));
 *
 * then `ecs.registerTaskDefinition(taskDefContents)`. Its package.json (commit ac609c36575e9b16cee9a8843c5dc74626252df3)
 * takes yaml ^2.2.2, the major version this project uses. Nothing
 * converts types: a numeric `cpu` or `memory` stays a number. The functions below keep the action's JavaScript,
 * loosely typed on purpose: a file of the wrong shape must fail (or pass) here exactly as it does there.
 */

/* eslint-disable @typescript-eslint/no-explicit-any -- the action's untyped JavaScript, kept as it is */
type Js = any

// "Attributes that are returned by DescribeTaskDefinition, but are not valid RegisterTaskDefinition inputs" (its order).
const IGNORED_TASK_DEFINITION_ATTRIBUTES = [
  'compatibilities',
  'taskDefinitionArn',
  'requiresAttributes',
  'revision',
  'status',
  'registeredAt',
  'deregisteredAt',
  'registeredBy'
]

// isEmptyValue: null, undefined, '', and arrays or objects with nothing but empty values (recursively).
function isEmptyValue(value: Js): boolean {
  if (value === null || value === undefined || value === '') return true
  if (Array.isArray(value)) {
    for (const element of value) if (!isEmptyValue(element)) return false
    return true
  }
  if (typeof value === 'object') {
    for (const childValue of Object.values(value)) if (!isEmptyValue(childValue)) return false
    return true
  }
  return false
}

// emptyValueReplacer: a JSON.stringify replacer, so it sees the root first (key '') and every value on the way down.
function emptyValueReplacer(_key: string, value: Js): Js {
  if (isEmptyValue(value)) return undefined
  if (Array.isArray(value)) return value.filter(element => !isEmptyValue(element))
  return value
}

// cleanNullKeys: through JSON text, so NaN and Infinity become null, and an entirely empty file throws.
function cleanNullKeys(obj: Js): Js {
  return JSON.parse(JSON.stringify(obj, emptyValueReplacer) as string)
}

// removeIgnoredAttributes: deletes only truthy ones (a `revision: 0` stays), warning for each.
function removeIgnoredAttributes(taskDef: Js, warn: (message: string) => void): Js {
  for (const attribute of IGNORED_TASK_DEFINITION_ATTRIBUTES) {
    if (taskDef[attribute]) {
      warn(
        `Ignoring property '${attribute}' in the task definition file. ` +
          'This property is returned by the Amazon ECS DescribeTaskDefinition API and may be shown in the ECS console, ' +
          'but it is not a valid field when registering a new task definition. ' +
          'This field can be safely removed from your task definition file.'
      )
      delete taskDef[attribute]
    }
  }
  return taskDef
}

function validateProxyConfigurations(taskDef: Js): Js {
  return (
    'proxyConfiguration' in taskDef &&
    taskDef.proxyConfiguration.type &&
    taskDef.proxyConfiguration.type == 'APPMESH' &&
    taskDef.proxyConfiguration.properties &&
    taskDef.proxyConfiguration.properties.length > 0
  )
}

// maintainValidObjects: puts back the empty `value` (and APPMESH `name`) that cleanNullKeys took out, at the end.
function maintainValidObjects(taskDef: Js): Js {
  if (validateProxyConfigurations(taskDef)) {
    taskDef.proxyConfiguration.properties.forEach((property: Js, index: number, arr: Js[]) => {
      if (!('value' in property)) arr[index].value = ''
      if (!('name' in property)) arr[index].name = ''
    })
  }
  if (taskDef && taskDef.containerDefinitions) {
    taskDef.containerDefinitions.forEach((container: Js) => {
      if (container.environment) {
        container.environment.forEach((property: Js, index: number, arr: Js[]) => {
          if (!('value' in property)) arr[index].value = ''
        })
      }
    })
  }
  return taskDef
}

/**
 * The RegisterTaskDefinition input amazon-ecs-deploy-task-definition builds from a task definition file's `text`
 * (JSON or YAML). Throws where the action fails before registering; `warn` gets its core.warning lines.
 */
export function deployActionRequest(text: string, warn: (message: string) => void = () => undefined): Record<string, unknown> {
  return maintainValidObjects(removeIgnoredAttributes(cleanNullKeys(parse(text)), warn)) as Record<string, unknown>
}
/* eslint-enable @typescript-eslint/no-explicit-any */
