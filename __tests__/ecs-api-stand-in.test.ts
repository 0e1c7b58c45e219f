import {
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  type TaskDefinition
} from '@aws-sdk/client-ecs'
import { instrumentedFargateTask, startEcsApi, taskDefinitionArn as arn, TEST_ACCOUNT as ACCOUNT, TEST_REGION as REGION, type EcsApi, type RecordedEcsRequest } from './support/ecs-api.js'

// The ECS API stand-in driven by the real @aws-sdk/client-ecs, as the action would drive AWS: endpoint from
// AWS_ENDPOINT_URL_ECS or the client's `endpoint` option, dummy credentials from the environment, SigV4 signing,
// the SDK's own retries. Expected values come from AWS's documentation and model (cited), never from the stand-in.

type Json = Record<string, unknown>

// The read-only fields amazon-ecs-deploy-task-definition strips before registering (docs/facts.md §3).
const READ_ONLY = ['taskDefinitionArn', 'revision', 'status', 'requiresAttributes', 'compatibilities', 'registeredAt', 'deregisteredAt', 'registeredBy']
const TAGS = [
  { key: 'team', value: 'platform' },
  { key: 'cost-center', value: '42' }
]

/** A root-sidecar Fargate task definition, as this action writes one (a RegisterTaskDefinition body). */
function webTask(image: string, change: (task: Json & { containerDefinitions: Json[] }) => void = () => undefined): Json {
  const task = instrumentedFargateTask('web', image)
  change(task)
  return task
}

const ENV = ['AWS_ENDPOINT_URL_ECS', 'AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_REGION', 'AWS_PROFILE']
ENV.push('AWS_EC2_METADATA_DISABLED', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS')
const saved = new Map(ENV.map(name => [name, process.env[name]]))

let api: EcsApi
const clients: ECSClient[] = []

/** A client configured only through the environment (AWS_ENDPOINT_URL_ECS points at the stand-in). */
function envClient(): ECSClient {
  const client = new ECSClient({})
  clients.push(client)
  return client
}

/** Requests the stand-in received from `from` on. */
const since = (from: number): RecordedEcsRequest[] => api.requests.slice(from)

beforeAll(async () => {
  for (const name of ENV) delete process.env[name]
  api = await startEcsApi({ region: REGION, accountId: ACCOUNT })
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_ECS: api.endpoint,
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    AWS_REGION: REGION,
    AWS_EC2_METADATA_DISABLED: 'true',
    // No developer's ~/.aws files: only what this test sets counts.
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials'
  })
  api.seed(webTask('nginx:1.23.1'))
  api.seed({ ...webTask('nginx:1.25.0'), tags: TAGS })
})

afterEach(() => {
  api.fail(undefined)
  for (const client of clients.splice(0)) client.destroy()
})

afterAll(async () => {
  await api.close()
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
})

describe('DescribeTaskDefinition', () => {
  it('finds the latest ACTIVE revision by family, through AWS_ENDPOINT_URL_ECS', async () => {
    const from = api.requests.length
    const { taskDefinition, tags } = await envClient().send(new DescribeTaskDefinitionCommand({ taskDefinition: 'web' }))
    expect(taskDefinition?.revision).toBe(2)
    expect(taskDefinition?.taskDefinitionArn).toBe(arn('web', 2))
    expect(taskDefinition?.containerDefinitions?.[0].image).toBe('nginx:1.25.0')
    expect(taskDefinition?.status).toBe('ACTIVE')
    expect(taskDefinition?.registeredAt).toBeInstanceOf(Date)
    // Tags only when asked for (DescribeTaskDefinition `include`).
    expect(tags).toBeUndefined()
    const [request] = since(from)
    expect(request).toMatchObject({ operation: 'DescribeTaskDefinition', body: { taskDefinition: 'web' }, status: 200 })
    expect(request.headers).toMatchObject({ 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonEC2ContainerServiceV20141113.DescribeTaskDefinition' })
    expect(request.headers.authorization).toBeUndefined()
    expect(request.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/)
  })

  it('finds a pinned revision by family:revision, through the endpoint option (which beats the environment)', async () => {
    // A closed port in the environment: only the option can reach the stand-in.
    process.env.AWS_ENDPOINT_URL_ECS = 'http://127.0.0.1:9'
    try {
      const client = new ECSClient({ endpoint: api.endpoint })
      clients.push(client)
      const from = api.requests.length
      const { taskDefinition } = await client.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'web:1' }))
      expect(taskDefinition?.revision).toBe(1)
      expect(taskDefinition?.containerDefinitions?.[0].image).toBe('nginx:1.23.1')
      expect(since(from).map(request => request.operation)).toEqual(['DescribeTaskDefinition'])
    } finally {
      process.env.AWS_ENDPOINT_URL_ECS = api.endpoint
    }
  })

  it('finds a revision by ARN and returns its tags with include TAGS', async () => {
    const { taskDefinition, tags } = await envClient().send(new DescribeTaskDefinitionCommand({ taskDefinition: arn('web', 2), include: ['TAGS'] }))
    expect(taskDefinition?.revision).toBe(2)
    expect(tags).toEqual(TAGS)
    const first = await envClient().send(new DescribeTaskDefinitionCommand({ taskDefinition: arn('web', 1), include: ['TAGS'] }))
    expect(first.tags).toEqual([])
  })

  it.each(['nope', 'web:9', 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:1', 'arn:aws:ecs:eu-central-1:999999999999:task-definition/web:1'])(
    'answers ClientException "Unable to describe task definition." for %s',
    async reference => {
      const error = await envClient()
        .send(new DescribeTaskDefinitionCommand({ taskDefinition: reference }))
        .catch((caught: unknown) => caught)
      expect(error).toMatchObject({ name: 'ClientException', message: 'Unable to describe task definition.', $metadata: { httpStatusCode: 400 } })
    }
  )

  it('refuses an include value outside the model enum (TaskDefinitionField: TAGS)', async () => {
    const error = await envClient()
      .send(new DescribeTaskDefinitionCommand({ taskDefinition: 'web', include: ['TAG' as 'TAGS'] }))
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({ name: 'ClientException' })
    expect((error as Error).message).toContain('include[0]: "TAG" is not one of TAGS')
  })
})

describe('RegisterTaskDefinition', () => {
  /** describe → strip the read-only fields → what amazon-ecs-deploy-task-definition sends. */
  async function describedForRegistration(reference: string): Promise<{ definition: TaskDefinition; input: RegisterTaskDefinitionCommandInput }> {
    const { taskDefinition, tags } = await envClient().send(new DescribeTaskDefinitionCommand({ taskDefinition: reference, include: ['TAGS'] }))
    if (!taskDefinition) throw new Error('no taskDefinition in the answer')
    const input: Json = { ...taskDefinition, tags }
    for (const field of READ_ONLY) delete input[field]
    return { definition: taskDefinition, input: input as unknown as RegisterTaskDefinitionCommandInput }
  }

  it('round trip: describe, strip the read-only fields, register: revision n + 1 with the same containers and tags', async () => {
    const { definition, input } = await describedForRegistration('web')
    const registered = await envClient().send(new RegisterTaskDefinitionCommand(input))
    const revision = (definition.revision as number) + 1
    expect(registered.taskDefinition?.revision).toBe(revision)
    expect(registered.taskDefinition?.taskDefinitionArn).toBe(arn('web', revision))
    expect(registered.taskDefinition?.containerDefinitions).toEqual(definition.containerDefinitions)
    expect(registered.tags).toEqual(TAGS)
    // The answer carries every read-only field AWS adds (API_TaskDefinition), with the caller as registeredBy.
    expect(registered.taskDefinition).toMatchObject({ status: 'ACTIVE', registeredBy: `arn:aws:iam::${ACCOUNT}:user/lacework-fargate-test` })
    expect(registered.taskDefinition?.registeredAt).toBeInstanceOf(Date)
    expect(registered.taskDefinition?.compatibilities).toEqual(['EC2', 'FARGATE'])
    expect(registered.taskDefinition?.requiresAttributes).toContainEqual({ name: 'ecs.capability.task-eni' })
    const latest = await envClient().send(new DescribeTaskDefinitionCommand({ taskDefinition: 'web' }))
    expect(latest.taskDefinition?.revision).toBe(revision)
  })

  it('stores cpu and memory written as "0.25 vCPU" and "0.5 GB" as CPU units and MiB (RegisterTaskDefinition cpu, memory)', async () => {
    const { taskDefinition } = await envClient().send(
      new RegisterTaskDefinitionCommand(webTask('nginx:1.25.0', task => Object.assign(task, { family: 'units', cpu: '0.25 vCPU', memory: '0.5 GB' })) as never)
    )
    expect(taskDefinition).toMatchObject({ cpu: '256', memory: '512' })
  })

  it('accepts a definition that does not ask for FARGATE, listing FARGATE in compatibilities only when it would run there', async () => {
    const bridged = await envClient().send(
      new RegisterTaskDefinitionCommand({ family: 'bridged', containerDefinitions: [{ name: 'app', image: 'app:1', links: ['db'] }, { name: 'db', image: 'db:1' }] })
    )
    expect(bridged.taskDefinition?.compatibilities).toEqual(['EC2'])
    const fargateReady = await envClient().send(
      new RegisterTaskDefinitionCommand(webTask('nginx:1.25.0', task => Object.assign(task, { family: 'ready', requiresCompatibilities: undefined })) as never)
    )
    expect(fargateReady.taskDefinition?.compatibilities).toEqual(['EC2', 'FARGATE'])
  })

  const invalid: [string, (task: Json & { containerDefinitions: Json[] }) => void, string[]][] = [
    [
      'the capability NET_ADMIN',
      task => (task.containerDefinitions[0].linuxParameters = { capabilities: { add: ['SYS_PTRACE', 'NET_ADMIN'] } }),
      ['containerDefinitions[0].linuxParameters.capabilities.add[1]', 'NET_ADMIN', 'SYS_PTRACE']
    ],
    [
      'SUCCESS on an essential container',
      task => (task.containerDefinitions[1].essential = true),
      ['containerDefinitions[0].dependsOn[0].condition', 'SUCCESS', 'essential']
    ],
    ['cpu 256 with memory 4096', task => (task.memory = '4096'), ['memory', '4096', '512, 1024, 2048']],
    ['a networkMode outside the model enum', task => (task.networkMode = 'host2'), ['networkMode: "host2" is not one of bridge, host, awsvpc, none']]
  ]
  it.each(invalid)('refuses %s with ClientException naming the problem, storing nothing', async (_name, change, expected) => {
    const before = await envClient().send(new DescribeTaskDefinitionCommand({ taskDefinition: 'web' }))
    const from = api.requests.length
    const error = await envClient()
      .send(new RegisterTaskDefinitionCommand(webTask('nginx:1.25.0', change) as never))
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({ name: 'ClientException', $metadata: { httpStatusCode: 400 } })
    for (const part of expected) expect((error as Error).message).toContain(part)
    // A client error is not retried.
    expect(since(from)).toHaveLength(1)
    const after = await envClient().send(new DescribeTaskDefinitionCommand({ taskDefinition: 'web' }))
    expect(after.taskDefinition?.revision).toBe(before.taskDefinition?.revision)
  })

  it('refuses an unknown member in the body (added after the SDK serialized it: its serializer drops unknown input members)', async () => {
    const client = envClient()
    // Between serialization and signing, as a stale or misspelt field would reach ECS from another client.
    client.middlewareStack.add(
      next => async args => {
        const request = args.request as { body?: unknown; headers: Record<string, string> }
        // The serializer's body is a Uint8Array (JSON bytes), a string in older versions.
        const text = request.body instanceof Uint8Array ? new TextDecoder().decode(request.body) : String(request.body)
        const body = JSON.parse(text) as { containerDefinitions: Json[] }
        body.containerDefinitions[0].entrypoint = ['/bin/sh']
        request.body = JSON.stringify(body)
        if (request.headers['content-length'] !== undefined) request.headers['content-length'] = String(Buffer.byteLength(request.body as string))
        return next(args)
      },
      { step: 'build', priority: 'high', name: 'addUnknownMember' }
    )
    const from = api.requests.length
    const error = await client.send(new RegisterTaskDefinitionCommand(webTask('nginx:1.25.0') as never)).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ name: 'ClientException' })
    expect((error as Error).message).toContain('containerDefinitions[0].entrypoint: unknown member')
    expect((since(from)[0].body as { containerDefinitions: Json[] }).containerDefinitions[0].entrypoint).toEqual(['/bin/sh'])

    // Without the middleware the SDK sends only the members its schema has: `revision` never leaves the client.
    const next = api.requests.length
    await envClient().send(new RegisterTaskDefinitionCommand({ ...webTask('nginx:1.25.0'), revision: 7 } as never))
    expect(since(next)[0]).toMatchObject({ status: 200, body: { family: 'web' } })
    expect(since(next)[0].body).not.toHaveProperty('revision')
  })

  it('refuses to seed an invalid definition', () => {
    expect(() => api.seed(webTask('nginx:1.25.0', task => (task.cpu = '3000')))).toThrow(/cpu/)
  })
})

describe('faults and retries', () => {
  it('throttled twice, then answered: the SDK retries on its own (3 requests, 3 attempts)', async () => {
    api.fail({ kind: 'throttle', times: 2 })
    const from = api.requests.length
    const answer = await envClient().send(new DescribeTaskDefinitionCommand({ taskDefinition: 'web' }))
    expect(answer.taskDefinition?.family).toBe('web')
    expect(answer.$metadata.attempts).toBe(3)
    expect(since(from).map(request => [request.status, request.errorType])).toEqual([
      [400, 'ThrottlingException'],
      [400, 'ThrottlingException'],
      [200, undefined]
    ])
    // The SDK numbers its attempts in amz-sdk-request.
    expect(since(from).map(request => request.headers['amz-sdk-request'])).toEqual(['attempt=1; max=3', 'attempt=2; max=3', 'attempt=3; max=3'])
  })

  it('answers HTTP 500 ServerException; the SDK retries it, and gives up after its 3 attempts', async () => {
    api.fail({ kind: 'server-error', times: 1 })
    const once = await envClient().send(new DescribeTaskDefinitionCommand({ taskDefinition: 'web' }))
    expect(once.$metadata.attempts).toBe(2)
    api.fail({ kind: 'server-error', times: 5 })
    const from = api.requests.length
    const error = await envClient()
      .send(new DescribeTaskDefinitionCommand({ taskDefinition: 'web' }))
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({ name: 'ServerException', $fault: 'server', $metadata: { httpStatusCode: 500, attempts: 3 } })
    expect(since(from).map(request => request.status)).toEqual([500, 500, 500])
  })

  it('AccessDeniedException for one operation surfaces as an error named AccessDeniedException, not retried', async () => {
    api.fail({ kind: 'access-denied', operation: 'RegisterTaskDefinition' })
    const from = api.requests.length
    const error = await envClient()
      .send(new RegisterTaskDefinitionCommand(webTask('nginx:1.25.0') as never))
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(Error)
    expect(error).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } })
    expect((error as Error).message).toContain('ecs:RegisterTaskDefinition')
    expect(since(from)).toHaveLength(1)
    // Other operations still answer.
    await expect(envClient().send(new DescribeTaskDefinitionCommand({ taskDefinition: 'web' }))).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } })
  })
})

describe('the protocol, without the SDK', () => {
  const target = 'AmazonEC2ContainerServiceV20141113.DescribeTaskDefinition'
  // The form of a SigV4 Authorization header (credential scope key/date/region/service/aws4_request); not a valid signature.
  const signed = (scope: string): Record<string, string> => ({
    authorization: `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240101/${scope}/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
    'x-amz-date': '20240101T000000Z'
  })
  async function post(headers: Record<string, string>, body: string): Promise<{ status: number; errorType: string | null; payload: Json }> {
    const response = await fetch(api.endpoint, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target, ...headers }, body })
    return { status: response.status, errorType: response.headers.get('x-amzn-errortype'), payload: (await response.json()) as Json }
  }

  it('refuses an unsigned request', async () => {
    const answer = await post({}, '{"taskDefinition":"web"}')
    expect(answer).toMatchObject({ status: 400, errorType: 'MissingAuthenticationTokenException', payload: { __type: 'MissingAuthenticationTokenException' } })
  })

  it('refuses a signature scoped to another service or region', async () => {
    expect(await post(signed(`${REGION}/s3`), '{"taskDefinition":"web"}')).toMatchObject({ status: 400, errorType: 'InvalidSignatureException' })
    expect(await post(signed('us-west-2/ecs'), '{"taskDefinition":"web"}')).toMatchObject({ status: 400, errorType: 'InvalidSignatureException' })
  })

  it('answers a signed request, checking the body against the model (a missing required member)', async () => {
    expect(await post(signed(`${REGION}/ecs`), '{"taskDefinition":"web"}')).toMatchObject({ status: 200, payload: { taskDefinition: { family: 'web' } } })
    const missing = await post(signed(`${REGION}/ecs`), '{}')
    expect(missing).toMatchObject({ status: 400, errorType: 'ClientException' })
    expect(missing.payload.message).toContain('taskDefinition: is required')
  })

  it('refuses an operation ECS does not have, and a body that is not JSON', async () => {
    expect(await post({ ...signed(`${REGION}/ecs`), 'x-amz-target': 'AmazonEC2ContainerServiceV20141113.DescribeTaskDefinitions' }, '{}')).toMatchObject({
      status: 400,
      errorType: 'UnknownOperationException'
    })
    expect(await post(signed(`${REGION}/ecs`), '{"taskDefinition":')).toMatchObject({ status: 400, errorType: 'SerializationException' })
  })
})
