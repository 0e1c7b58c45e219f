import { InputError } from './errors.js'

/**
 * Pure helpers for CloudFormation, SAM and CDK templates: finding the task definitions in a template, and turning a
 * container's `Image` into the literal reference the registry look-up needs, by AWS's intrinsic function reference
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference.html).
 */

export const TASK_DEFINITION_TYPE = 'AWS::ECS::TaskDefinition'
const SAM_TRANSFORM = 'AWS::Serverless-2016-10-31'

/** What the template itself cannot say: its parameters' values and the stack's account, region and name. */
export interface ResolveContext {
  parameters: Record<string, string>
  accountId?: string
  region?: string
  /** `AWS::URLSuffix`; by default `amazonaws.com`, `amazonaws.com.cn` in a `cn-` region. */
  urlSuffix?: string
  stackName?: string
}

export type ResolvedImage = { image: string } | { unresolved: string }

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * An intrinsic function in its long form: an object with the one key `Ref`, `Condition` or `Fn::…` (YAML's short
 * tags, `!Sub x`, read as these too). Its content is CloudFormation's, never a property of the resource.
 */
export function isIntrinsicFunction(value: unknown): value is Record<string, unknown> {
  if (!isRecord(value)) return false
  const keys = Object.keys(value)
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0] === 'Condition' || keys[0].startsWith('Fn::'))
}

/** A CloudFormation (or SAM, or CDK-synthesized) template rather than an ECS task definition. */
export function isTemplate(value: unknown): boolean {
  if (!isRecord(value)) return false
  if ('Resources' in value || 'AWSTemplateFormatVersion' in value) return true
  // Transform is a name or a list of names and `{ Name, Parameters }` macros.
  const transforms = Array.isArray(value.Transform) ? value.Transform : [value.Transform]
  return transforms.some(transform => transform === SAM_TRANSFORM || (isRecord(transform) && transform.Name === SAM_TRANSFORM))
}

/** Every `AWS::ECS::TaskDefinition` resource, in template order, with its Properties ({} when it has none). */
export function taskDefinitionResources(template: unknown): { id: string; properties: Record<string, unknown> }[] {
  const resources = isRecord(template) ? template.Resources : undefined
  if (!isRecord(resources)) return []
  return Object.entries(resources)
    .filter(([, resource]) => isRecord(resource) && resource.Type === TASK_DEFINITION_TYPE)
    .map(([id, resource]) => {
      const properties = (resource as Record<string, unknown>).Properties
      return { id, properties: isRecord(properties) ? properties : {} }
    })
}

/**
 * The template's parameters with their Defaults, overridden by `given`. The Default of an
 * `AWS::SSM::Parameter::Value<…>` parameter names an SSM parameter, not the value Ref returns, so it is left out.
 */
export function templateParameters(template: unknown, given: Record<string, string>): Record<string, string> {
  const values: Record<string, string> = {}
  const declared = isRecord(template) ? template.Parameters : undefined
  if (isRecord(declared)) {
    for (const [name, parameter] of Object.entries(declared)) {
      if (!isRecord(parameter) || parameter.Default === undefined) continue
      if (typeof parameter.Type === 'string' && parameter.Type.startsWith('AWS::SSM::Parameter::Value<')) continue
      // A list Default written as a YAML sequence means what its comma-joined form means.
      if (scalar(parameter.Default)) values[name] = String(parameter.Default)
      else if (Array.isArray(parameter.Default) && parameter.Default.every(scalar)) values[name] = parameter.Default.join(',')
    }
  }
  return { ...values, ...given }
}

function scalar(item: unknown): item is string | number | boolean {
  return typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean'
}

/** CloudFormation's parameter names: alphanumeric (template anatomy, Parameters). */
// A template's own parameters are alphanumeric; the pseudo parameters (AWS::AccountId, AWS::Region, …) are named so too.
const PARAMETER_NAME = /^(AWS::)?[A-Za-z0-9]+$/

/** The `template-parameters` input: `Name=value` lines, blank lines ignored; the value is everything after the first `=`. */
export function parseTemplateParameters(input: string): Record<string, string> {
  const values: Record<string, string> = {}
  input.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim()
    if (line === '') return
    const where = `line ${index + 1} ${JSON.stringify(line)}`
    const equals = line.indexOf('=')
    if (equals < 0) throw new InputError('template-parameters', `${where} is not Name=value`)
    const name = line.slice(0, equals).trim()
    if (!PARAMETER_NAME.test(name)) throw new InputError('template-parameters', `${where}: a parameter name is letters and digits only, or a pseudo parameter such as AWS::AccountId`)
    if (name in values) throw new InputError('template-parameters', `${where}: ${name} is given twice`)
    values[name] = line.slice(equals + 1).trim()
  })
  return values
}

/** Why a value cannot be known before the stack exists: the name or function that stops it. */
class Unresolved extends Error {}

type Value = string | string[]

/**
 * A container's `Image` as a literal reference: a string as it is; Fn::Sub, Ref, Fn::Join, Fn::Select and Fn::Split
 * evaluated when everything they use is known. Otherwise `unresolved` names what is not: a resource's Ref or
 * attribute, Fn::ImportValue, a parameter without a value, a dynamic reference.
 */
export function resolveImage(value: unknown, context: ResolveContext): ResolvedImage {
  try {
    const image = evaluate(value, context)
    if (typeof image !== 'string') throw new Unresolved('a list where an image string belongs')
    // A dynamic reference is replaced by CloudFormation at deploy time, from SSM or Secrets Manager.
    const dynamic = /\{\{resolve:[^}]*\}\}/.exec(image)
    if (dynamic) throw new Unresolved(dynamic[0])
    return { image }
  } catch (error) {
    if (error instanceof Unresolved) return { unresolved: error.message }
    throw error
  }
}

function evaluate(value: unknown, context: ResolveContext): Value {
  if (typeof value === 'string') return value
  // YAML reads `tag: 1.10` or a bare number as a number; CloudFormation takes the text.
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (!isIntrinsicFunction(value)) {
    throw new Unresolved(value === undefined || value === null ? 'a missing value' : `${JSON.stringify(value)}, not a string or intrinsic function`)
  }
  const [name, argument] = Object.entries(value)[0]
  switch (name) {
    case 'Ref':
      if (typeof argument !== 'string') throw new Unresolved('Ref')
      return lookUp(argument, context)
    case 'Fn::Sub':
      return substitute(argument, context)
    case 'Fn::Join': {
      if (!Array.isArray(argument) || argument.length !== 2 || typeof argument[0] !== 'string') throw new Unresolved('Fn::Join (malformed)')
      return list(argument[1], context, 'Fn::Join').map(item => text(item, context, 'Fn::Join')).join(argument[0])
    }
    case 'Fn::Select': {
      if (!Array.isArray(argument) || argument.length !== 2) throw new Unresolved('Fn::Select (malformed)')
      const index = text(argument[0], context, 'Fn::Select').trim()
      const items = list(argument[1], context, 'Fn::Select')
      if (!/^\d+$/.test(index) || Number(index) >= items.length) {
        throw new Unresolved(`Fn::Select index ${JSON.stringify(index)} outside a list of ${items.length}`)
      }
      // Only the chosen item has to be known: the others never reach the image.
      return evaluate(items[Number(index)], context)
    }
    case 'Fn::Split': {
      if (!Array.isArray(argument) || argument.length !== 2 || typeof argument[0] !== 'string' || argument[0] === '') {
        throw new Unresolved('Fn::Split (malformed)')
      }
      return text(argument[1], context, 'Fn::Split').split(argument[0])
    }
    case 'Fn::GetAtt': {
      const target = Array.isArray(argument) ? argument.filter(part => typeof part === 'string').join('.') : typeof argument === 'string' ? argument : ''
      throw new Unresolved(target ? `Fn::GetAtt ${target}` : 'Fn::GetAtt')
    }
    case 'Fn::ImportValue':
      throw new Unresolved(typeof argument === 'string' ? `Fn::ImportValue ${argument}` : 'Fn::ImportValue')
    default:
      throw new Unresolved(name)
  }
}

/** A value that must be a string (a Join item, a Split source, a Select index). */
function text(value: unknown, context: ResolveContext, within: string): string {
  const result = evaluate(value, context)
  if (typeof result !== 'string') throw new Unresolved(`${within} (a list where a string belongs)`)
  return result
}

/** A value that must be a list: a literal list (items evaluated when used), Fn::Split, or a Ref to a list parameter. */
function list(value: unknown, context: ResolveContext, within: string): unknown[] {
  if (Array.isArray(value)) return value
  const result = evaluate(value, context)
  if (Array.isArray(result)) return result
  // A CommaDelimitedList or List<…> parameter's value is comma-separated, each member space-trimmed.
  if (isIntrinsicFunction(value) && 'Ref' in value) return result.split(',').map(item => item.trim())
  throw new Unresolved(`${within} (a string where a list belongs)`)
}

/** Fn::Sub: `String` or `[String, { Var: value }]`; `${!Literal}` stands for `${Literal}`. */
function substitute(argument: unknown, context: ResolveContext): string {
  const [template, variables] = Array.isArray(argument) ? argument : [argument, {}]
  if (typeof template !== 'string' || !isRecord(variables) || (Array.isArray(argument) && (argument.length < 1 || argument.length > 2))) {
    throw new Unresolved('Fn::Sub (malformed)')
  }
  return template.replace(/\$\{([^}]*)\}/g, (_match, name: string) => {
    if (name.startsWith('!')) return `\${${name.slice(1)}}`
    if (Object.hasOwn(variables, name)) return text(variables[name], context, 'Fn::Sub')
    // `${Resource.Attribute}` is Fn::GetAtt: known only once the stack exists.
    if (name.includes('.')) throw new Unresolved(name)
    return lookUp(name, context)
  })
}

/** What `Ref name` (or `${name}`) gives: a pseudo parameter or a template parameter; a resource's Ref is unknown. */
function lookUp(name: string, context: ResolveContext): string {
  const pseudo = pseudoParameter(name, context)
  if (pseudo !== undefined) return pseudo
  if (Object.hasOwn(context.parameters, name)) return context.parameters[name]
  throw new Unresolved(name)
}

/** AWS's pseudo parameters that are known before deployment, when the context gives what they depend on. */
function pseudoParameter(name: string, context: ResolveContext): string | undefined {
  const region = context.region
  const china = region?.startsWith('cn-') ?? false
  switch (name) {
    case 'AWS::AccountId':
      return context.accountId
    case 'AWS::Region':
      return region
    case 'AWS::URLSuffix':
      return context.urlSuffix ?? (china ? 'amazonaws.com.cn' : 'amazonaws.com')
    case 'AWS::Partition':
      return china ? 'aws-cn' : region?.startsWith('us-gov-') ? 'aws-us-gov' : 'aws'
    case 'AWS::StackName':
      return context.stackName
    default:
      return undefined
  }
}
