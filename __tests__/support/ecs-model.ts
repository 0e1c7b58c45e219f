import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

/**
 * A validator of request bodies against AWS's published service model (the JSON AWS SDKs are generated from):
 * the model is the schema, nothing here is hand-written about ECS. By default the ECS model that aws-sdk v2
 * ships (`apis/ecs-2014-11-13.min.json`).
 *
 * Both forms of the model are read: the minified one of aws-sdk v2 (members inline, a member without `type` is a
 * string, no enums, no length bounds) and the full one (`service-2.json`: every shape named, `enum`, `min`, `max`).
 * Checked: structures (unknown members and missing `required` members are errors), lists, maps, strings (with
 * `enum` when the model has one), integers, numbers, booleans; `min`/`max` when the model gives them. A `null` is
 * an error anywhere: the JSON protocol has no null value.
 */

export interface Shape {
  shape?: string
  type?: string
  members?: Record<string, Shape>
  required?: string[]
  member?: Shape
  key?: Shape
  value?: Shape
  enum?: string[]
  min?: number
  max?: number
}

export interface ServiceModel {
  metadata: { apiVersion?: string; serviceId?: string }
  operations: Record<string, { input?: Shape }>
  shapes: Record<string, Shape>
}

export interface ModelError {
  /** Where, as `containerDefinitions[0].entryPoint`; '' for the input itself. */
  path: string
  message: string
}

const require = createRequire(import.meta.url)

let ecs: ServiceModel | undefined

/** The ECS service model shipped in aws-sdk v2. */
export function ecsModel(): ServiceModel {
  ecs ??= JSON.parse(readFileSync(require.resolve('aws-sdk/apis/ecs-2014-11-13.min.json'), 'utf8')) as ServiceModel
  return ecs
}

/** The errors of `input` as the input of `operation`; [] when it is valid. */
export function validateOperationInput(model: ServiceModel, operation: string, input: unknown): ModelError[] {
  const op = model.operations[operation]
  if (!op?.input) throw new Error(`the model has no operation ${operation} with an input`)
  const errors: ModelError[] = []
  validate(model, op.input, input, '', errors)
  return errors
}

/** The errors of a task definition as a `RegisterTaskDefinition` request; [] when it is valid. */
export function validateRegisterTaskDefinition(input: unknown, model: ServiceModel = ecsModel()): ModelError[] {
  return validateOperationInput(model, 'RegisterTaskDefinition', input)
}

/** The errors as lines, for a readable assertion failure. */
export function formatErrors(errors: ModelError[]): string {
  return errors.map(error => `${error.path || '(input)'}: ${error.message}`).join('\n')
}

/** A reference `{ shape: 'X' }` with the named shape's definition; local keys add to it. */
function resolve(model: ServiceModel, shape: Shape): Shape {
  let resolved = shape
  const seen = new Set<string>()
  while (resolved.shape !== undefined) {
    const name: string = resolved.shape
    if (seen.has(name)) throw new Error(`the model's shape ${name} refers to itself`)
    seen.add(name)
    const target = model.shapes[name]
    if (!target) throw new Error(`the model has no shape ${name}`)
    const local: Shape = { ...resolved }
    delete local.shape
    resolved = { ...target, ...local }
  }
  return resolved
}

function shown(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'an object'
  return `${typeof value} ${JSON.stringify(value)}`
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function at(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`
  const name = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key)
  return path ? `${path}.${name}` : name
}

function bounds(shape: Shape, size: number, what: string, path: string, errors: ModelError[]): void {
  if (shape.min !== undefined && size < shape.min) errors.push({ path, message: `${what} ${size} is below the minimum ${shape.min}` })
  if (shape.max !== undefined && size > shape.max) errors.push({ path, message: `${what} ${size} is above the maximum ${shape.max}` })
}

function validate(model: ServiceModel, reference: Shape, value: unknown, path: string, errors: ModelError[]): void {
  const shape = resolve(model, reference)
  const type = shape.type ?? 'string'
  if (value === null) {
    errors.push({ path, message: `null is not a ${type}` })
    return
  }
  switch (type) {
    case 'structure': {
      if (!isObject(value)) {
        errors.push({ path, message: `expected a structure (object), got ${shown(value)}` })
        return
      }
      const members = shape.members ?? {}
      for (const name of shape.required ?? []) {
        if (value[name] === undefined) errors.push({ path: at(path, name), message: 'is required' })
      }
      for (const [name, item] of Object.entries(value)) {
        if (!Object.prototype.hasOwnProperty.call(members, name)) {
          errors.push({ path: at(path, name), message: `unknown member (known: ${Object.keys(members).join(', ')})` })
          continue
        }
        if (item !== undefined) validate(model, members[name], item, at(path, name), errors)
      }
      return
    }
    case 'list': {
      if (!Array.isArray(value)) {
        errors.push({ path, message: `expected a list, got ${shown(value)}` })
        return
      }
      bounds(shape, value.length, 'length', path, errors)
      value.forEach((item, index) => validate(model, shape.member ?? {}, item, at(path, index), errors))
      return
    }
    case 'map': {
      if (!isObject(value)) {
        errors.push({ path, message: `expected a map (object), got ${shown(value)}` })
        return
      }
      bounds(shape, Object.keys(value).length, 'size', path, errors)
      for (const [key, item] of Object.entries(value)) {
        validate(model, shape.key ?? {}, key, `${at(path, key)} (key)`, errors)
        validate(model, shape.value ?? {}, item, at(path, key), errors)
      }
      return
    }
    case 'string':
    case 'blob': {
      if (typeof value !== 'string') {
        errors.push({ path, message: `expected a string, got ${shown(value)}` })
        return
      }
      if (shape.enum && !shape.enum.includes(value)) errors.push({ path, message: `${JSON.stringify(value)} is not one of ${shape.enum.join(', ')}` })
      bounds(shape, value.length, 'length', path, errors)
      return
    }
    case 'integer':
    case 'long': {
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        errors.push({ path, message: `expected an integer, got ${shown(value)}` })
        return
      }
      if (type === 'integer' && (value < -(2 ** 31) || value >= 2 ** 31)) errors.push({ path, message: `${value} does not fit a 32-bit integer` })
      bounds(shape, value, 'value', path, errors)
      return
    }
    case 'float':
    case 'double': {
      if (typeof value !== 'number' || !Number.isFinite(value)) errors.push({ path, message: `expected a number, got ${shown(value)}` })
      else bounds(shape, value, 'value', path, errors)
      return
    }
    case 'boolean':
      if (typeof value !== 'boolean') errors.push({ path, message: `expected a boolean, got ${shown(value)}` })
      return
    case 'timestamp':
      if (typeof value !== 'number' && typeof value !== 'string') errors.push({ path, message: `expected a timestamp, got ${shown(value)}` })
      return
    default:
      throw new Error(`${path}: the model's type ${type} is not understood by this validator`)
  }
}
