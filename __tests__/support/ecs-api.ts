import { randomUUID } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ecsModel, formatErrors, validateOperationInput, validateShape, type ModelError, type ServiceModel, type Shape } from './ecs-model.js'
import { asksForFargate, cpuUnits, memoryMiB, validateFargateTask } from './fargate-rules.js'
import { readBody } from './http-body.js'

/**
 * A local stand-in for the part of Amazon ECS's API the action may call, speaking the AWS JSON 1.1 protocol as
 * `@aws-sdk/client-ecs` does: `POST /`, `X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Operation>`,
 * `Content-Type: application/x-amz-json-1.1`, a JSON body; errors as HTTP 400 (500 for server faults) with
 * `{"__type", "message"}` and the `x-amzn-ErrorType` header.
 *
 * Stricter than AWS on purpose: every request body is checked against python3-botocore's ECS model (unknown
 * members, types, `required`, `enum`, `min`/`max`, `pattern`) and refused with `ClientException` naming every
 * problem, and a registration that asks for FARGATE is checked against the Fargate rules (fargate-rules.ts).
 * Requests must be SigV4-signed (the header's form is checked, not the signature).
 */

export interface RecordedEcsRequest {
  /** From X-Amz-Target ('' when it is missing or not ECS's). */
  operation: string
  /** The parsed JSON body (the raw text when it is not JSON). */
  body: unknown
  /** Every header but Authorization. */
  headers: IncomingHttpHeaders
  /** The status answered. */
  status: number
  /** The `__type` answered, for an error. */
  errorType?: string
}

export type EcsFault =
  /** AccessDeniedException for every call of `operation` until cleared. */
  | { kind: 'access-denied'; operation: string }
  /** ThrottlingException for the next `times` calls (of `operation` when given). */
  | { kind: 'throttle'; times: number; operation?: string }
  /** HTTP 500 ServerException for the next `times` calls (of `operation` when given). */
  | { kind: 'server-error'; times: number; operation?: string }

export interface EcsApiOptions {
  /** The region ARNs name and requests must be signed for; 'us-east-1' by default. */
  region?: string
  /** '123456789012' by default. */
  accountId?: string
  /** The caller: `registeredBy` and the AccessDenied text. */
  principal?: string
  /** python3-botocore's ECS model by default. */
  model?: ServiceModel
}

type Json = Record<string, unknown>

export interface EcsApi {
  /** Base URL for AWS_ENDPOINT_URL_ECS or the client's `endpoint`. */
  endpoint: string
  region: string
  accountId: string
  /** Every request received, in order. */
  requests: RecordedEcsRequest[]
  /**
   * Registers a task definition as if done earlier: `request` is a RegisterTaskDefinition body (its `tags` are
   * kept). Checked like a request; returns the stored definition with its read-only fields.
   */
  seed(request: Json): Json
  /** Adds a fault; undefined clears every fault. */
  fail(fault: EcsFault | undefined): void
  close(): Promise<void>
}

const TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113'
const CONTENT_TYPE = 'application/x-amz-json-1.1'
// RegisterTaskDefinition, `family`: "Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed."
const FAMILY = /^[a-zA-Z0-9_-]{1,255}$/
const SIGV4 =
  /^AWS4-HMAC-SHA256 Credential=([A-Za-z0-9]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([a-z0-9-]+(?:;[a-z0-9-]+)*), ?Signature=[0-9a-f]{64}$/

class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400
  ) {
    super(message)
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** `value` with every structure's keys in the order of the model's members, as AWS answers. */
function ordered(model: ServiceModel, reference: Shape, value: unknown): unknown {
  const shape = reference.shape ? model.shapes[reference.shape] : reference
  if (shape?.type === 'list' && Array.isArray(value) && shape.member) return value.map(item => ordered(model, shape.member as Shape, item))
  if (shape?.type === 'structure' && isObject(value)) {
    const result: Json = {}
    for (const [name, member] of Object.entries(shape.members ?? {})) if (value[name] !== undefined) result[name] = ordered(model, member, value[name])
    return result
  }
  return value
}

/**
 * Container-instance attributes a definition needs (names from ECS's attribute list; which feature needs which is
 * inferred from describe-task-definition output, not documented as a rule).
 */
function requiresAttributes(definition: Json): Json[] {
  const names = new Set<string>()
  const containers = (definition.containerDefinitions as Json[]).filter(isObject)
  if (definition.networkMode === 'awsvpc') names.add('ecs.capability.task-eni')
  if (definition.taskRoleArn) names.add('com.amazonaws.ecs.capability.task-iam-role')
  for (const container of containers) {
    const log = isObject(container.logConfiguration) ? container.logConfiguration : {}
    if (log.logDriver === 'awslogs') {
      names.add('com.amazonaws.ecs.capability.logging-driver.awslogs')
      if (definition.executionRoleArn) names.add('ecs.capability.execution-role-awslogs')
    }
    if (Array.isArray(container.dependsOn) && container.dependsOn.length > 0) names.add('ecs.capability.container-ordering')
    for (const secret of Array.isArray(container.secrets) ? container.secrets : []) {
      const from = isObject(secret) && typeof secret.valueFrom === 'string' ? secret.valueFrom : ''
      names.add(from.startsWith('arn:aws:secretsmanager:') ? 'ecs.capability.secrets.asm.environment-variables' : 'ecs.capability.secrets.ssm.environment-variables')
    }
  }
  return [...names].map(name => ({ name }))
}

/**
 * The definition ECS stores for a valid request: what was sent, less `tags`, with what registration adds. The
 * empty lists and `essential` are in the RegisterTaskDefinition example of AWS's model (examples-1.json);
 * `cpu: 0`, `placementConstraints: []` and the awsvpc `hostPort`/`protocol` fill-ins are what describe output shows.
 */
function registered(request: Json, extra: Json): Json {
  const definition = structuredClone(request)
  delete definition.tags
  const hostNetworked = definition.networkMode === 'awsvpc' || definition.networkMode === 'host'
  definition.containerDefinitions = (definition.containerDefinitions as Json[]).map(container => {
    const filled: Json = { cpu: 0, essential: true, portMappings: [], environment: [], mountPoints: [], volumesFrom: [], ...container }
    filled.portMappings = (filled.portMappings as Json[]).map(mapping => ({
      ...(hostNetworked && mapping.containerPort !== undefined ? { hostPort: mapping.containerPort } : {}),
      // PortMapping `protocol`: "The default is tcp."
      protocol: 'tcp',
      ...mapping
    }))
    return filled
  })
  definition.volumes ??= []
  definition.placementConstraints ??= []
  // RegisterTaskDefinition `cpu`/`memory`: "String values are converted to an integer … when the task definition is registered."
  if (typeof definition.cpu === 'string') definition.cpu = String(cpuUnits(definition.cpu) ?? definition.cpu)
  if (typeof definition.memory === 'string') definition.memory = String(memoryMiB(definition.memory) ?? definition.memory)
  return { ...definition, ...extra, requiresAttributes: requiresAttributes(definition) }
}

/** Starts the stand-in on 127.0.0.1 (a free port). */
export async function startEcsApi(options: EcsApiOptions = {}): Promise<EcsApi> {
  const model = options.model ?? ecsModel()
  const region = options.region ?? 'us-east-1'
  const accountId = options.accountId ?? '123456789012'
  const principal = options.principal ?? `arn:aws:iam::${accountId}:user/lacework-fargate-test`
  const requests: RecordedEcsRequest[] = []
  /** Revisions by family; revision n is at index n - 1. */
  const families = new Map<string, Json[]>()
  const tagsByArn = new Map<string, Json[]>()
  let faults: EcsFault[] = []

  const arnOf = (family: string, revision: number): string => `arn:aws:ecs:${region}:${accountId}:task-definition/${family}:${revision}`

  const problems = (operation: string, body: unknown): ModelError[] => {
    const errors = validateOperationInput(model, operation, body)
    if (errors.length > 0 || operation !== 'RegisterTaskDefinition') return errors
    const request = body as Json
    if (!FAMILY.test(request.family as string)) errors.push({ path: 'family', message: 'is not 1 to 255 letters, digits, underscores and hyphens' })
    if (asksForFargate(request)) errors.push(...validateFargateTask(request))
    return errors
  }
  const refuse = (errors: ModelError[]): ApiError =>
    new ApiError('ClientException', `Invalid request (${errors.length} problem${errors.length === 1 ? '' : 's'}): ${formatErrors(errors).split('\n').join('; ')}`)

  const checked = (shape: string, value: Json): Json => {
    const result = ordered(model, { shape }, value) as Json
    const errors = validateShape(model, shape, JSON.parse(JSON.stringify(result)))
    // A stand-in answering outside AWS's own output shape would hide bugs: fail loudly.
    if (errors.length > 0) throw new Error(`the stand-in's answer is not a valid ${shape}:\n${formatErrors(errors)}`)
    return result
  }

  const register = (request: Json): { definition: Json; tags: Json[] } => {
    const family = request.family as string
    const revisions = families.get(family) ?? []
    const revision = revisions.length + 1
    const arn = arnOf(family, revision)
    // TaskDefinition `compatibilities`: "The task launch types the task definition validated against during
    // registration": EC2 is assumed valid; FARGATE when the Fargate rules find nothing.
    const compatibilities = ['EC2', ...(validateFargateTask(request).length === 0 ? ['FARGATE'] : [])]
    if (Array.isArray(request.requiresCompatibilities) && request.requiresCompatibilities.includes('EXTERNAL')) compatibilities.push('EXTERNAL')
    const definition = ordered(model, { shape: 'TaskDefinition' }, registered(request, {
      taskDefinitionArn: arn,
      family,
      revision,
      status: 'ACTIVE',
      compatibilities,
      registeredAt: Date.now() / 1000,
      registeredBy: principal
    })) as Json
    revisions.push(definition)
    families.set(family, revisions)
    const tags = Array.isArray(request.tags) ? structuredClone(request.tags as Json[]) : []
    tagsByArn.set(arn, tags)
    return { definition, tags }
  }

  // DescribeTaskDefinition `taskDefinition`: "The family for the latest ACTIVE revision, family and revision
  // (family:revision) for a specific revision in the family, or full Amazon Resource Name (ARN)".
  const find = (reference: string): Json | undefined => {
    const arn = /^arn:aws:ecs:([^:]+):(\d{12}):task-definition\/([^:/]+):(\d+)$/.exec(reference)
    if (arn) return arn[1] === region && arn[2] === accountId ? families.get(arn[3])?.[Number(arn[4]) - 1] : undefined
    const pinned = /^([^:/]+):(\d+)$/.exec(reference)
    if (pinned) return families.get(pinned[1])?.[Number(pinned[2]) - 1]
    return families.get(reference)?.filter(definition => definition.status === 'ACTIVE').at(-1)
  }

  const operations: Record<string, (body: Json) => Json> = {
    DescribeTaskDefinition: body => {
      const definition = find(body.taskDefinition as string)
      // The message ECS answers for a name it does not know.
      if (!definition) throw new ApiError('ClientException', 'Unable to describe task definition.')
      const include = Array.isArray(body.include) ? body.include : []
      const tags = include.includes('TAGS') ? { tags: tagsByArn.get(definition.taskDefinitionArn as string) ?? [] } : {}
      return checked('DescribeTaskDefinitionResponse', { taskDefinition: definition, ...tags })
    },
    RegisterTaskDefinition: body => {
      const { definition, tags } = register(body)
      return checked('RegisterTaskDefinitionResponse', { taskDefinition: definition, ...(tags.length > 0 ? { tags } : {}) })
    }
  }

  const checkSignature = (headers: IncomingHttpHeaders): void => {
    const authorization = headers.authorization
    if (!authorization) throw new ApiError('MissingAuthenticationTokenException', 'Missing Authentication Token')
    const match = SIGV4.exec(authorization)
    if (!match) throw new ApiError('IncompleteSignatureException', 'Authorization is not AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…')
    const [, , date, scopeRegion, service, signedHeaders] = match
    const amzDate = headers['x-amz-date']
    if (typeof amzDate !== 'string' || !amzDate.startsWith(date)) {
      throw new ApiError('IncompleteSignatureException', `X-Amz-Date ${String(amzDate)} does not match the credential date ${date}`)
    }
    const signed = signedHeaders.split(';')
    for (const name of ['host', 'x-amz-date']) if (!signed.includes(name)) throw new ApiError('IncompleteSignatureException', `SignedHeaders lacks ${name}`)
    for (const name of signed) if (headers[name] === undefined) throw new ApiError('IncompleteSignatureException', `signed header ${name} is not in the request`)
    if (service !== 'ecs') throw new ApiError('InvalidSignatureException', `Credential should be scoped to correct service: 'ecs'.`)
    if (scopeRegion !== region) throw new ApiError('InvalidSignatureException', `Credential should be scoped to a valid region, not '${scopeRegion}'.`)
  }

  const injected = (operation: string): ApiError | undefined => {
    if (faults.some(fault => fault.kind === 'access-denied' && fault.operation === operation)) {
      return new ApiError(
        'AccessDeniedException',
        `User: ${principal} is not authorized to perform: ecs:${operation} on resource: * because no identity-based policy allows the ecs:${operation} action`
      )
    }
    const counted = faults.find(fault => fault.kind !== 'access-denied' && fault.times > 0 && (fault.operation === undefined || fault.operation === operation))
    if (!counted || counted.kind === 'access-denied') return undefined
    counted.times--
    faults = faults.filter(fault => fault.kind === 'access-denied' || fault.times > 0)
    if (counted.kind === 'throttle') return new ApiError('ThrottlingException', 'Rate exceeded')
    return new ApiError('ServerException', 'Service unavailable (injected fault)', 500)
  }

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const raw = await readBody(request)
    const headers: IncomingHttpHeaders = { ...request.headers }
    delete headers.authorization
    const target = String(request.headers['x-amz-target'] ?? '')
    const operation = target.startsWith(`${TARGET_PREFIX}.`) ? target.slice(TARGET_PREFIX.length + 1) : ''
    let body: unknown = raw
    try {
      body = JSON.parse(raw)
    } catch {
      // Kept as text in the record; answered below.
    }
    const record: RecordedEcsRequest = { operation, body, headers, status: 0 }
    requests.push(record)
    const send = (status: number, payload: Json, errorType?: string): void => {
      record.status = status
      record.errorType = errorType
      const text = JSON.stringify(payload)
      response.writeHead(status, {
        'content-type': CONTENT_TYPE,
        'content-length': Buffer.byteLength(text),
        'x-amzn-requestid': randomUUID(),
        ...(errorType ? { 'x-amzn-errortype': errorType } : {})
      })
      response.end(text)
    }
    try {
      if (request.method !== 'POST' || request.url !== '/') throw new ApiError('UnknownOperationException', `${request.method} ${request.url}: the JSON protocol is POST /`)
      checkSignature(request.headers)
      if (!model.operations[operation]) throw new ApiError('UnknownOperationException', `X-Amz-Target ${JSON.stringify(target)} names no ECS operation`)
      const contentType = request.headers['content-type'] ?? ''
      if (contentType !== CONTENT_TYPE) throw new ApiError('SerializationException', `Content-Type ${JSON.stringify(contentType)} is not ${CONTENT_TYPE}`)
      const fault = injected(operation)
      if (fault) throw fault
      if (body === raw) throw new ApiError('SerializationException', 'the body is not JSON')
      const errors = problems(operation, body)
      if (errors.length > 0) throw refuse(errors)
      const implementation = operations[operation]
      if (!implementation) throw new ApiError('UnknownOperationException', `the ECS stand-in does not implement ${operation}`)
      send(200, implementation(body as Json))
    } catch (error) {
      if (error instanceof ApiError) send(error.status, { __type: error.type, message: error.message }, error.type)
      else send(500, { __type: 'ServerException', message: `stand-in failure: ${String(error)}` }, 'ServerException')
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(error => {
      response.writeHead(500)
      response.end(String(error))
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    endpoint,
    region,
    accountId,
    requests,
    seed: request => {
      const errors = problems('RegisterTaskDefinition', request)
      if (errors.length > 0) throw new Error(`seed: not a valid registration:\n${formatErrors(errors)}`)
      return structuredClone(register(request).definition)
    },
    fail: fault => {
      faults = fault ? [...faults, { ...fault }] : []
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        // The SDK's agent keeps connections alive; close them so jest sees no open handle.
        server.closeAllConnections()
        server.close(error => (error ? reject(error) : resolve()))
      })
  }
}

/** The account and region the stand-in answers for in the tests. */
export const TEST_ACCOUNT = '123456789012'
export const TEST_REGION = 'eu-central-1'

/** A task definition's ARN in the tests' account and region. */
export function taskDefinitionArn(family: string, revision: number): string {
  return `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:task-definition/${family}:${revision}`
}

/** An instrumented (root-sidecar) Fargate task as a RegisterTaskDefinition body, valid against AWS's model and Fargate's rules. */
export function instrumentedFargateTask(family: string, image: string, web: Record<string, unknown> = {}): Record<string, unknown> & { containerDefinitions: Record<string, unknown>[] } {
  return {
    family,
    executionRoleArn: `arn:aws:iam::${TEST_ACCOUNT}:role/ecsTaskExecutionRole`,
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '256',
    memory: '512',
    containerDefinitions: [
      {
        name: 'web',
        image,
        essential: true,
        portMappings: [{ containerPort: 80 }],
        ...web,
        linuxParameters: { capabilities: { add: ['SYS_PTRACE'] } },
        volumesFrom: [{ sourceContainer: 'datacollector-sidecar', readOnly: true }],
        dependsOn: [{ containerName: 'datacollector-sidecar', condition: 'SUCCESS' }]
      },
      { name: 'datacollector-sidecar', image: 'lacework/datacollector:latest-sidecar', essential: false }
    ]
  }
}
