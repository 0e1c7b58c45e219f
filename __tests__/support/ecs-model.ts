import { existsSync, readFileSync } from 'node:fs'

/**
 * A validator of request bodies against AWS's published service model (the JSON AWS SDKs are generated from):
 * the model is the schema, nothing here is hand-written about ECS. The ECS model is the full one Debian's
 * `python3-botocore` ships (`service-2.json`: every shape named, with `enum`, `min`, `max` and `pattern`);
 * `scripts/test-env.sh up` installs the package.
 *
 * Checked: structures (unknown members and missing `required` members are errors), lists, maps, strings (`enum`,
 * `pattern`, length in Unicode characters), integers, numbers, booleans, timestamps; `min`/`max` wherever the model
 * gives them. A `null` is an error anywhere: the JSON protocol has no null value.
 */

export interface Shape {
  /** A member's reference to a named shape. */
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
  pattern?: string
  exception?: boolean
  documentation?: string
}

export interface ServiceModel {
  metadata: { apiVersion?: string; serviceId?: string; protocol?: string; jsonVersion?: string; targetPrefix?: string; endpointPrefix?: string }
  operations: Record<string, { name?: string; input?: Shape; output?: Shape; errors?: Shape[] }>
  shapes: Record<string, Shape>
}

export interface ModelError {
  /** Where, as `containerDefinitions[0].entryPoint`; '' for the input itself. */
  path: string
  message: string
}

/** Where Debian's python3-botocore puts the ECS model (docs/facts.md §8). */
export const ECS_MODEL_PATH = '/usr/lib/python3/dist-packages/botocore/data/ecs/2014-11-13/service-2.json'
export const ECS_MODEL_PACKAGE = 'python3-botocore'

const models = new Map<string, ServiceModel>()

/** A service model read from `file`; a missing file is one clear error naming it and the package that ships it. */
export function loadServiceModel(file: string, packageName = ECS_MODEL_PACKAGE): ServiceModel {
  const cached = models.get(file)
  if (cached) return cached
  if (!existsSync(file)) {
    throw new Error(`AWS's service model ${file} is missing: install the Debian package ${packageName} (apt-get install -y ${packageName}, or scripts/test-env.sh up)`)
  }
  const model = JSON.parse(readFileSync(file, 'utf8')) as ServiceModel
  if (!model.operations || !model.shapes) throw new Error(`${file} is not an AWS service model (no operations or shapes)`)
  models.set(file, model)
  return model
}

/** The ECS service model (API version 2014-11-13) that python3-botocore ships. */
export function ecsModel(): ServiceModel {
  return loadServiceModel(ECS_MODEL_PATH)
}

/** The errors of `input` as the input of `operation`; [] when it is valid. */
export function validateOperationInput(model: ServiceModel, operation: string, input: unknown): ModelError[] {
  const op = model.operations[operation]
  if (!op?.input) throw new Error(`the model has no operation ${operation} with an input`)
  const errors: ModelError[] = []
  validate(model, op.input, input, '', errors)
  return errors
}

/** The errors of `value` as the model's shape named `shape` (an output, say); [] when it is valid. */
export function validateShape(model: ServiceModel, shape: string, value: unknown): ModelError[] {
  const errors: ModelError[] = []
  validate(model, { shape }, value, '', errors)
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

/** A member `{ shape: 'X' }` resolved to the named shape's definition. */
function resolve(model: ServiceModel, reference: Shape): Shape {
  let resolved = reference
  const seen = new Set<string>()
  while (resolved.shape !== undefined) {
    const name: string = resolved.shape
    if (seen.has(name)) throw new Error(`the model's shape ${name} refers to itself`)
    seen.add(name)
    const target = model.shapes[name]
    if (!target) throw new Error(`the model has no shape ${name}`)
    resolved = target
  }
  return resolved
}

const patterns = new Map<string, RegExp>()

// The models' patterns are Java regular expressions; the ECS ones (\p{L}, \p{Z}, \p{N}) mean the same with the u flag.
function compiled(pattern: string): RegExp {
  let regex = patterns.get(pattern)
  if (!regex) {
    regex = new RegExp(pattern, 'u')
    patterns.set(pattern, regex)
  }
  return regex
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
  const type = shape.type
  if (type === undefined) throw new Error(`${path}: the model's shape ${reference.shape ?? ''} has no type`)
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
      if (!shape.member) throw new Error(`${path}: the model's list has no member shape`)
      value.forEach((item, index) => validate(model, shape.member as Shape, item, at(path, index), errors))
      return
    }
    case 'map': {
      if (!isObject(value)) {
        errors.push({ path, message: `expected a map (object), got ${shown(value)}` })
        return
      }
      if (!shape.key || !shape.value) throw new Error(`${path}: the model's map has no key or value shape`)
      bounds(shape, Object.keys(value).length, 'size', path, errors)
      for (const [key, item] of Object.entries(value)) {
        validate(model, shape.key, key, `${at(path, key)} (key)`, errors)
        validate(model, shape.value, item, at(path, key), errors)
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
      // Smithy's length of a string counts Unicode characters (code points), not UTF-16 units.
      bounds(shape, [...value].length, 'length', path, errors)
      if (shape.pattern !== undefined && !compiled(shape.pattern).test(value)) {
        errors.push({ path, message: `${JSON.stringify(value)} does not match the pattern ${shape.pattern}` })
      }
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
      // The JSON protocols send epoch seconds; an ISO 8601 string is what people write.
      if (typeof value !== 'number' && typeof value !== 'string') errors.push({ path, message: `expected a timestamp, got ${shown(value)}` })
      return
    default:
      throw new Error(`${path}: the model's type ${type} is not understood by this validator`)
  }
}
