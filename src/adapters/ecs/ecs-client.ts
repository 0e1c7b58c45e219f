import type { ECSClient } from '@aws-sdk/client-ecs'
import type { EcsTag, EcsTaskDefinitions } from '../../app/ecs.js'
import { ActionError } from '../../core/errors.js'

export type EcsFailure = 'no-credentials' | 'credentials-rejected' | 'no-region' | 'access-denied' | 'not-found' | 'throttled' | 'other'

/** An ECS call failed: one line naming what to do, never a credential. */
export class EcsError extends ActionError {
  constructor(
    readonly failure: EcsFailure,
    message: string
  ) {
    super(`ECS: ${message}`)
  }
}

interface SdkError {
  name?: string
  message?: string
  code?: string
  $metadata?: { httpStatusCode?: number; attempts?: number }
}

// Error codes AWS answers for credentials it does not accept (the request was signed, the key or token is wrong).
const REJECTED = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredTokenException',
  'ExpiredToken',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignatureException',
  'MissingAuthenticationTokenException'
])
const THROTTLED = new Set(['ThrottlingException', 'Throttling', 'ThrottledException', 'TooManyRequestsException', 'RequestLimitExceeded'])
// The message ECS answers (with ClientException) for a family, revision or ARN it does not have.
const NOT_FOUND = 'Unable to describe task definition.'
const SECRET_VARIABLES = ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ACCESS_KEY_ID']

/** `text` with every credential value the client could have used replaced by ***. */
async function redact(text: string, client: ECSClient): Promise<string> {
  const secrets = SECRET_VARIABLES.map(name => process.env[name])
  try {
    const identity = await client.config.credentials()
    secrets.push(identity.accessKeyId, identity.secretAccessKey, identity.sessionToken)
  } catch {
    // No credentials resolved: nothing of theirs can be in the text.
  }
  let result = text
  // Short values are not credentials, and masking them would mangle ordinary words.
  for (const secret of secrets) if (secret && secret.length >= 8) result = result.split(secret).join('***')
  return result
}

/** What went wrong in a failed DescribeTaskDefinition of `target`, in one line. */
export function describeFailure(caught: unknown, target: string, region: string | undefined): { failure: EcsFailure; message: string } {
  const error = (typeof caught === 'object' && caught !== null ? caught : { message: String(caught) }) as SdkError
  const name = error.name ?? 'Error'
  const message = (error.message ?? '').split('\n')[0]
  // The SDK wraps what is not an Error of its realm (a socket error under jest's VM, say) as "AWS SDK error wrapper for <String(error)>".
  const wrapped = /^AWS SDK error wrapper for (.+)$/.exec(message)
  const detail = wrapped ? wrapped[1] : message ? `${name}: ${message}` : name
  const attempts = error.$metadata?.attempts ?? 1
  const where = region ? ` in ${region}` : ''
  const fail = (failure: EcsFailure, message: string) => ({ failure, message })
  if (name === 'CredentialsProviderError' || name === 'ProviderError' || /could not load credentials/i.test(message)) {
    return fail('no-credentials', `no AWS credentials: configure them, e.g. with aws-actions/configure-aws-credentials (${detail})`)
  }
  if (/region is missing/i.test(message)) {
    return fail('no-region', 'no AWS region: set one, e.g. aws-region of aws-actions/configure-aws-credentials, or AWS_REGION')
  }
  if (REJECTED.has(name)) {
    return fail('credentials-rejected', `AWS rejected the credentials (${detail}): configure valid ones, e.g. with aws-actions/configure-aws-credentials`)
  }
  if (name === 'AccessDeniedException' || name === 'AccessDenied') {
    return fail('access-denied', `access denied reading task definition ${target}${where}: the role needs ecs:DescribeTaskDefinition (${detail})`)
  }
  if (name === 'ClientException' && message === NOT_FOUND) return fail('not-found', `no task definition ${target}${where}`)
  if (THROTTLED.has(name) || error.$metadata?.httpStatusCode === 429) {
    return fail('throttled', `reading task definition ${target}${where} was throttled on all ${attempts} attempts (${detail}): try again later`)
  }
  return fail('other', `reading task definition ${target}${where} failed${attempts > 1 ? ` after ${attempts} attempts` : ''}: ${detail}`)
}

/**
 * Task definitions read through @aws-sdk/client-ecs with the SDK's own configuration: the default credential chain
 * (environment, files, web identity, container and instance metadata: what aws-actions/configure-aws-credentials
 * sets up, OIDC included), the region from AWS_REGION or the config file, the endpoint from AWS_ENDPOINT_URL_ECS
 * when set, and the default retry mode, `standard` (3 attempts unless AWS_RETRY_MODE / AWS_MAX_ATTEMPTS say otherwise).
 */
export async function createEcsTaskDefinitions(): Promise<EcsTaskDefinitions> {
  // Loaded here, not at start-up: the SDK is large and most runs never call ECS.
  const { ECSClient, DescribeTaskDefinitionCommand } = await import('@aws-sdk/client-ecs')
  const client = new ECSClient({ customUserAgent: 'lacework-fargate' })
  return {
    async describe(taskDefinition) {
      let region: string | undefined
      try {
        region = await client.config.region()
        const answer = await client.send(new DescribeTaskDefinitionCommand({ taskDefinition, include: ['TAGS'] }))
        if (!answer.taskDefinition) throw new EcsError('other', `DescribeTaskDefinition ${taskDefinition} in ${region} answered no taskDefinition`)
        return { taskDefinition: answer.taskDefinition as Record<string, unknown>, tags: (answer.tags ?? []) as EcsTag[] }
      } catch (caught) {
        if (caught instanceof EcsError) throw caught
        const { failure, message } = describeFailure(caught, taskDefinition, region)
        throw new EcsError(failure, await redact(message, client))
      }
    }
  }
}
