import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ECSClient, ECSServiceException, RegisterTaskDefinitionCommand, type RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs'
import { createEcsTaskDefinitions, describeFailure, EcsError } from '../src/adapters/ecs/ecs-client.js'
import { describeTarget, registrableTaskDefinition } from '../src/app/ecs.js'
import { ActionError } from '../src/core/errors.js'
import { READ_ONLY_FIELDS } from '../src/core/task-definition.js'
import { deployActionRequest } from './support/deploy-action.js'
import { instrumentedFargateTask, startEcsApi, taskDefinitionArn as arn, TEST_ACCOUNT as ACCOUNT, TEST_REGION as REGION, type EcsApi, type RecordedEcsRequest } from './support/ecs-api.js'
import { formatErrors, validateRegisterTaskDefinition } from './support/ecs-model.js'

// Task definitions read from ECS through createEcsTaskDefinitions(): the real @aws-sdk/client-ecs, configured only by
// the environment (AWS_ENDPOINT_URL_ECS → the ECS API stand-in, dummy credentials, a region), as a workflow step
// after aws-actions/configure-aws-credentials would have it. Expected values come from AWS's documentation and
// model and from what the stand-in was seeded with, never from the code under test.

type Json = Record<string, unknown>

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
const TAGS = [
  { key: 'team', value: 'platform' },
  { key: 'cost-center', value: '42' }
]

/** A root-sidecar Fargate task definition, as a RegisterTaskDefinition body. */
function fargateTask(family: string, image: string): Json {
  return instrumentedFargateTask(family, image, { environment: [{ name: 'MODE', value: 'production' }] })
}

// Every variable the SDK's configuration reads that a developer's or runner's environment could set.
const ENV = [
  'AWS_ENDPOINT_URL_ECS',
  'AWS_ENDPOINT_URL',
  'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_PROFILE',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_ARN',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_RETRY_MODE',
  'AWS_MAX_ATTEMPTS',
  'HOME'
]

let api: EcsApi
let scratch: string
let saved: Map<string, string | undefined>
const clients: ECSClient[] = []

/** A client of the test's own, configured like the adapter's (environment only), to register and check. */
function envClient(): ECSClient {
  const client = new ECSClient({})
  clients.push(client)
  return client
}

const since = (from: number): RecordedEcsRequest[] => api.requests.slice(from)

/** The EcsError `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<EcsError> {
  const caught = await promise.then(
    () => undefined,
    (error: unknown) => error
  )
  expect(caught).toBeInstanceOf(EcsError)
  expect(caught).toBeInstanceOf(ActionError)
  const message = (caught as EcsError).message
  expect(message).not.toContain('\n')
  expect(message).not.toContain(SECRET)
  return caught as EcsError
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'lwf-ecs-source-'))
  writeFileSync(join(scratch, 'empty'), '')
  api = await startEcsApi({ region: REGION, accountId: ACCOUNT })
  api.seed(fargateTask('web', 'nginx:1.23.1'))
  api.seed({ ...fargateTask('web', 'nginx:1.25.0'), tags: TAGS })
  api.seed({ ...fargateTask('api', 'api:1.0.0'), tags: TAGS })
})

beforeEach(() => {
  saved = new Map(ENV.map(name => [name, process.env[name]]))
  for (const name of ENV) delete process.env[name]
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_ECS: api.endpoint,
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: SECRET,
    AWS_REGION: REGION,
    AWS_EC2_METADATA_DISABLED: 'true',
    // Nothing from a developer's ~/.aws: only what the test sets counts.
    AWS_CONFIG_FILE: join(scratch, 'empty'),
    AWS_SHARED_CREDENTIALS_FILE: join(scratch, 'empty'),
    HOME: scratch
  })
})

afterEach(() => {
  api.fail(undefined)
  for (const client of clients.splice(0)) client.destroy()
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
})

afterAll(async () => {
  await api.close()
  rmSync(scratch, { recursive: true, force: true })
})

describe('describe', () => {
  it('by family: the latest ACTIVE revision with its tags, asked for with include TAGS', async () => {
    const from = api.requests.length
    const ecs = await createEcsTaskDefinitions()
    const { taskDefinition, tags } = await ecs.describe(describeTarget('web', '', ''))
    expect(taskDefinition).toMatchObject({ taskDefinitionArn: arn('web', 2), family: 'web', revision: 2, status: 'ACTIVE' })
    expect((taskDefinition.containerDefinitions as Json[])[0].image).toBe('nginx:1.25.0')
    expect(tags).toEqual(TAGS)
    expect(since(from)).toHaveLength(1)
    expect(since(from)[0]).toMatchObject({ operation: 'DescribeTaskDefinition', body: { taskDefinition: 'web', include: ['TAGS'] }, status: 200 })
    // The SDK signs for ECS in the configured region (the stand-in checks the scope).
    expect(since(from)[0].headers['x-amz-target']).toBe('AmazonEC2ContainerServiceV20141113.DescribeTaskDefinition')
  })

  it('by family and revision: that revision, and [] for a revision without tags', async () => {
    const ecs = await createEcsTaskDefinitions()
    const from = api.requests.length
    const { taskDefinition, tags } = await ecs.describe(describeTarget('web', undefined, '1'))
    expect(since(from)[0].body).toEqual({ taskDefinition: 'web:1', include: ['TAGS'] })
    expect(taskDefinition).toMatchObject({ taskDefinitionArn: arn('web', 1), revision: 1 })
    expect((taskDefinition.containerDefinitions as Json[])[0].image).toBe('nginx:1.23.1')
    expect(tags).toEqual([])
  })

  it('by ARN', async () => {
    const ecs = await createEcsTaskDefinitions()
    const { taskDefinition, tags } = await ecs.describe(describeTarget(undefined, arn('web', 2), undefined))
    expect(taskDefinition).toMatchObject({ taskDefinitionArn: arn('web', 2), revision: 2 })
    expect(tags).toEqual(TAGS)
  })

  it('one client answers several calls', async () => {
    const ecs = await createEcsTaskDefinitions()
    const answers = await Promise.all(['web:1', 'web:2', 'api'].map(target => ecs.describe(target)))
    expect(answers.map(answer => answer.taskDefinition.taskDefinitionArn)).toEqual([arn('web', 1), arn('web', 2), arn('api', 1)])
  })
})

describe('registrableTaskDefinition of a describe answer', () => {
  it('is a valid RegisterTaskDefinition input, in the order ECS answered, that registers as the next revision with the same content', async () => {
    const ecs = await createEcsTaskDefinitions()
    const first = await ecs.describe('api')
    const registrable = registrableTaskDefinition(first.taskDefinition, first.tags)

    const errors = validateRegisterTaskDefinition(JSON.parse(JSON.stringify(registrable)))
    expect(formatErrors(errors)).toBe('')
    for (const field of READ_ONLY_FIELDS) expect(registrable).not.toHaveProperty(field)
    const kept = Object.keys(first.taskDefinition).filter(key => !READ_ONLY_FIELDS.includes(key))
    expect(Object.keys(registrable)).toEqual([...kept, 'tags'])
    expect(registrable.tags).toEqual(TAGS)

    // Registered with the real SDK, as amazon-ecs-deploy-task-definition registers a file.
    const registered = await envClient().send(new RegisterTaskDefinitionCommand(registrable as unknown as RegisterTaskDefinitionCommandInput))
    expect(registered.taskDefinition).toMatchObject({ taskDefinitionArn: arn('api', 2), revision: 2, status: 'ACTIVE' })
    expect(registered.tags).toEqual(TAGS)

    // The new revision reads back as the same registrable definition: nothing was lost or added on the way.
    const second = await ecs.describe('api')
    expect(second.taskDefinition.revision).toBe(2)
    expect(registrableTaskDefinition(second.taskDefinition, second.tags)).toEqual(registrable)
  })

  it('written to a file, survives the deploy action’s reading rules as a valid RegisterTaskDefinition input that registers', async () => {
    const ecs = await createEcsTaskDefinitions()
    const { taskDefinition, tags } = await ecs.describe(arn('web', 2))
    const file = JSON.stringify(registrableTaskDefinition(taskDefinition, tags), null, 2)
    const warnings: string[] = []
    const request = deployActionRequest(file, message => warnings.push(message))
    expect(warnings).toEqual([])
    expect(formatErrors(validateRegisterTaskDefinition(request))).toBe('')
    const registered = await envClient().send(new RegisterTaskDefinitionCommand(request as unknown as RegisterTaskDefinitionCommandInput))
    expect(registered.taskDefinition?.containerDefinitions).toEqual(taskDefinition.containerDefinitions)
    expect(registered.tags).toEqual(TAGS)
  })
})

describe('failures: one line each, naming what to do', () => {
  it('no credentials at all: no variables, empty config and credentials files', async () => {
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) delete process.env[name]
    const from = api.requests.length
    const ecs = await createEcsTaskDefinitions()
    const error = await failure(ecs.describe('web'))
    expect(error.failure).toBe('no-credentials')
    expect(error.message).toBe(
      'ECS: no AWS credentials: configure them, e.g. with aws-actions/configure-aws-credentials (CredentialsProviderError: Could not load credentials from any providers)'
    )
    expect(since(from)).toHaveLength(0)
  })

  it('no region', async () => {
    delete process.env.AWS_REGION
    const from = api.requests.length
    const ecs = await createEcsTaskDefinitions()
    const error = await failure(ecs.describe('web'))
    expect(error.failure).toBe('no-region')
    expect(error.message).toBe('ECS: no AWS region: set one, e.g. aws-region of aws-actions/configure-aws-credentials, or AWS_REGION')
    expect(since(from)).toHaveLength(0)
  })

  it('access denied: names the permission the role needs, not retried', async () => {
    api.fail({ kind: 'access-denied', operation: 'DescribeTaskDefinition' })
    const from = api.requests.length
    const ecs = await createEcsTaskDefinitions()
    const error = await failure(ecs.describe('web'))
    expect(error.failure).toBe('access-denied')
    expect(error.message.startsWith('ECS: access denied reading task definition web in eu-central-1: the role needs ecs:DescribeTaskDefinition (AccessDeniedException: ')).toBe(
      true
    )
    expect(since(from)).toHaveLength(1)
  })

  it.each([
    ['an unknown family', 'nope'],
    ['an unknown revision', 'web:9'],
    ['an ARN of another account', 'arn:aws:ecs:eu-central-1:999999999999:task-definition/web:1']
  ])('%s: "no task definition <x> in <region>"', async (_name, target) => {
    const from = api.requests.length
    const ecs = await createEcsTaskDefinitions()
    const error = await failure(ecs.describe(target))
    expect(error.failure).toBe('not-found')
    expect(error.message).toBe(`ECS: no task definition ${target} in eu-central-1`)
    expect(since(from)).toHaveLength(1)
  })

  it('throttled every time: the SDK retries (standard mode, 3 attempts), then one line', async () => {
    api.fail({ kind: 'throttle', times: 100, operation: 'DescribeTaskDefinition' })
    const from = api.requests.length
    const ecs = await createEcsTaskDefinitions()
    const error = await failure(ecs.describe('web'))
    expect(error.failure).toBe('throttled')
    expect(error.message).toBe('ECS: reading task definition web in eu-central-1 was throttled on all 3 attempts (ThrottlingException: Rate exceeded): try again later')
    expect(since(from).map(request => request.errorType)).toEqual(['ThrottlingException', 'ThrottlingException', 'ThrottlingException'])
  })

  it('throttled once: the retry answers, no error', async () => {
    api.fail({ kind: 'throttle', times: 1, operation: 'DescribeTaskDefinition' })
    const from = api.requests.length
    const ecs = await createEcsTaskDefinitions()
    await expect(ecs.describe('web:2')).resolves.toMatchObject({ taskDefinition: { revision: 2 } })
    expect(since(from).map(request => request.status)).toEqual([400, 200])
  })

  it('anything else: the SDK error name and message, with the attempts', async () => {
    api.fail({ kind: 'server-error', times: 100, operation: 'DescribeTaskDefinition' })
    const ecs = await createEcsTaskDefinitions()
    const error = await failure(ecs.describe('web'))
    expect(error.failure).toBe('other')
    expect(error.message).toBe('ECS: reading task definition web in eu-central-1 failed after 3 attempts: ServerException: Service unavailable (injected fault)')
  })

  it('an endpoint that refuses connections', async () => {
    // Port 9 (discard) on loopback: nothing listens there.
    process.env.AWS_ENDPOINT_URL_ECS = 'http://127.0.0.1:9'
    const ecs = await createEcsTaskDefinitions()
    const error = await failure(ecs.describe('web'))
    expect(error.failure).toBe('other')
    expect(error.message).toBe('ECS: reading task definition web in eu-central-1 failed after 3 attempts: Error: connect ECONNREFUSED 127.0.0.1:9')
  })

  it('credentials AWS does not accept (an exception the stand-in cannot answer, built as the SDK builds it)', () => {
    const rejected = new ECSServiceException({
      name: 'UnrecognizedClientException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400, attempts: 1 },
      message: 'The security token included in the request is invalid.'
    })
    expect(describeFailure(rejected, 'web', REGION)).toEqual({
      failure: 'credentials-rejected',
      message:
        'AWS rejected the credentials (UnrecognizedClientException: The security token included in the request is invalid.): ' +
        'configure valid ones, e.g. with aws-actions/configure-aws-credentials'
    })
  })
})
