import { isIntrinsicFunction } from './cloudformation.js'

/**
 * What a field means when it is `null`, `""`, or a list or object holding only such values: not set. That is how
 * aws-actions/amazon-ecs-deploy-task-definition reads a task definition before it registers it (it drops them), and
 * how the ECS console spells unset fields in its JSON view; so this action reads them the same way.
 */
export function isEmptyValue(value: unknown): boolean {
  if (value === null || value === undefined || value === '') return true
  // CloudFormation works an intrinsic function out; its "" (Fn::Join's delimiter, say) is an argument, not a value.
  if (isIntrinsicFunction(value)) return false
  if (Array.isArray(value)) return value.every(isEmptyValue)
  if (typeof value === 'object') return Object.values(value as Record<string, unknown>).every(isEmptyValue)
  return false
}

/** `value` with every empty value (see isEmptyValue) left out, at every depth but inside intrinsic functions; lists keep their other elements in order. */
export function withoutEmptyValues<T>(value: T): T {
  if (isIntrinsicFunction(value)) return value
  if (Array.isArray(value)) return value.filter(item => !isEmptyValue(item)).map(withoutEmptyValues) as T
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, item]) => !isEmptyValue(item))
        .map(([key, item]) => [key, withoutEmptyValues(item)])
    ) as T
  }
  return value
}
