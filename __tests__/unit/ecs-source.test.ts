import { describeTarget, registrableTaskDefinition } from '../../src/app/ecs.js'
import { InputError } from '../../src/core/errors.js'

// Task definitions read from ECS: the pure parts. Expected values are written by hand from the DescribeTaskDefinition
// and RegisterTaskDefinition references and from aws-actions/amazon-ecs-render-task-definition's index.js (cited in
// src/app/ecs.ts), never taken from the functions under test.

type Json = Record<string, unknown>

const ARN = 'arn:aws:ecs:eu-central-1:123456789012:task-definition/web:7'
const CN_ARN = 'arn:aws-cn:ecs:cn-north-1:123456789012:task-definition/web_api-2:1'

/** A DescribeTaskDefinition `taskDefinition`, in the member order AWS's model gives TaskDefinition. */
function described(): Json {
  return {
    taskDefinitionArn: ARN,
    containerDefinitions: [{ name: 'web', image: 'nginx:1.25.0', cpu: 0, portMappings: [], essential: true, environment: [], mountPoints: [], volumesFrom: [] }],
    family: 'web',
    executionRoleArn: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole',
    networkMode: 'awsvpc',
    revision: 7,
    volumes: [],
    status: 'ACTIVE',
    requiresAttributes: [{ name: 'ecs.capability.task-eni' }],
    placementConstraints: [],
    compatibilities: ['EC2', 'FARGATE'],
    requiresCompatibilities: ['FARGATE'],
    cpu: '256',
    memory: '512',
    registeredAt: new Date('2024-05-01T12:00:00Z'),
    deregisteredAt: new Date('2024-06-01T12:00:00Z'),
    registeredBy: 'arn:aws:iam::123456789012:user/deployer'
  }
}

describe('registrableTaskDefinition', () => {
  it('drops the eight fields only describe output has and keeps the rest in the order ECS returned it', () => {
    const result = registrableTaskDefinition(described(), [])
    expect(Object.keys(result)).toEqual([
      'containerDefinitions',
      'family',
      'executionRoleArn',
      'networkMode',
      'volumes',
      'placementConstraints',
      'requiresCompatibilities',
      'cpu',
      'memory'
    ])
    expect(result).toEqual({
      containerDefinitions: [{ name: 'web', image: 'nginx:1.25.0', cpu: 0, portMappings: [], essential: true, environment: [], mountPoints: [], volumesFrom: [] }],
      family: 'web',
      executionRoleArn: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole',
      networkMode: 'awsvpc',
      volumes: [],
      placementConstraints: [],
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512'
    })
  })

  it('adds the tags last as RegisterTaskDefinition `tags`, and no `tags` member when there are none', () => {
    const tags = [{ key: 'team', value: 'platform' }, { key: 'cost-center', value: '42' }, { key: 'flag' }]
    const result = registrableTaskDefinition(described(), tags)
    expect(Object.keys(result).at(-1)).toBe('tags')
    expect(result.tags).toEqual([{ key: 'team', value: 'platform' }, { key: 'cost-center', value: '42' }, { key: 'flag' }])
    expect(Object.keys(result.tags as Json[])).toHaveLength(3)
    expect((result.tags as Json[])[2]).not.toHaveProperty('value')
    expect(registrableTaskDefinition(described(), [])).not.toHaveProperty('tags')
  })

  it('takes tags only from the tags argument, not from a `tags` member of the definition', () => {
    expect(registrableTaskDefinition({ family: 'web', tags: [{ key: 'stale', value: 'x' }] }, [])).toEqual({ family: 'web' })
  })

  it('is pure: the input is unchanged and the result shares no objects with it', () => {
    const input = described()
    const before = structuredClone(input)
    const tags = [{ key: 'team', value: 'platform' }]
    const result = registrableTaskDefinition(input, tags)
    expect(input).toEqual(before)
    ;((result.containerDefinitions as Json[])[0] as Json).image = 'changed'
    ;(result.tags as Json[])[0].value = 'changed'
    expect((input.containerDefinitions as Json[])[0].image).toBe('nginx:1.25.0')
    expect(tags[0].value).toBe('platform')
  })

  it('leaves out members whose value is undefined (absent on the wire)', () => {
    expect(registrableTaskDefinition({ family: 'web', taskRoleArn: undefined, containerDefinitions: [] }, [])).toEqual({ family: 'web', containerDefinitions: [] })
    expect(Object.keys(registrableTaskDefinition({ family: 'web', taskRoleArn: undefined }, []))).toEqual(['family'])
  })
})

describe('describeTarget', () => {
  // (family, arn, revision) → DescribeTaskDefinition `taskDefinition`.
  const allowed: [string, string | undefined, string | undefined, string | undefined, string][] = [
    ['a family alone: its latest ACTIVE revision', 'web', undefined, undefined, 'web'],
    ['a family and a revision: family:revision', 'web', undefined, '3', 'web:3'],
    ['blank inputs count as not given (core.getInput gives "")', 'web', '', '', 'web'],
    ['inputs are trimmed, as core.getInput trims them', ' web ', '  ', ' 12 ', 'web:12'],
    ['an ARN alone', undefined, ARN, undefined, ARN],
    ['an ARN with the family it names', 'web', ARN, '', ARN],
    ['an ARN with the revision it names', '', ARN, '7', ARN],
    ['an ARN with the family and revision it names', 'web', ARN, '7', ARN],
    ['an ARN in another partition', undefined, CN_ARN, undefined, CN_ARN],
    ['a family of 255 characters', 'a'.repeat(255), undefined, '1', `${'a'.repeat(255)}:1`]
  ]
  it.each(allowed)('%s', (_name, family, arn, revision, expected) => {
    expect(describeTarget(family, arn, revision)).toBe(expected)
  })

  // (family, arn, revision) → the input the InputError names and a part of its message.
  const refused: [string, string | undefined, string | undefined, string | undefined, string, string][] = [
    ['nothing given', undefined, undefined, undefined, 'task-definition-family', 'give task-definition-family (and task-definition-revision for a fixed revision)'],
    ['only blanks given', '', ' ', '', 'task-definition-family', 'no task definition to read from ECS'],
    // The render action: "You can't fetch task definition with just revision".
    ['a revision alone', undefined, undefined, '3', 'task-definition-revision', 'a revision alone names no task definition'],
    ['an ARN with another family', 'api', ARN, undefined, 'task-definition-family', 'api contradicts task-definition-arn, which names family web'],
    ['an ARN with another revision', undefined, ARN, '8', 'task-definition-revision', '8 contradicts task-definition-arn, which names revision 7'],
    ['a revision that is not a number', 'web', undefined, 'latest', 'task-definition-revision', '"latest" is not a revision number'],
    ['revision 0 (revisions start at 1)', 'web', undefined, '0', 'task-definition-revision', '"0" is not a revision number'],
    ['a negative revision', 'web', undefined, '-1', 'task-definition-revision', '"-1" is not a revision number'],
    ['a fractional revision', 'web', undefined, '1.5', 'task-definition-revision', '"1.5" is not a revision number'],
    ['a revision with a leading zero', 'web', undefined, '03', 'task-definition-revision', '"03" is not a revision number'],
    ['family:revision in the family input', 'web:3', undefined, undefined, 'task-definition-family', 'give a revision in task-definition-revision'],
    ['a family with a space', 'my web', undefined, undefined, 'task-definition-family', '"my web" is not a task definition family'],
    ['a family of 256 characters', 'a'.repeat(256), undefined, undefined, 'task-definition-family', 'is not a task definition family'],
    ['an ARN without a revision', undefined, 'arn:aws:ecs:eu-central-1:123456789012:task-definition/web', undefined, 'task-definition-arn', 'is not a task definition ARN'],
    ['a service ARN', undefined, 'arn:aws:ecs:eu-central-1:123456789012:service/prod/web', undefined, 'task-definition-arn', 'is not a task definition ARN'],
    ['family:revision in the ARN input', undefined, 'web:3', undefined, 'task-definition-arn', '"web:3" is not a task definition ARN'],
    ['an ARN with a short account', undefined, 'arn:aws:ecs:eu-central-1:1234:task-definition/web:1', undefined, 'task-definition-arn', 'is not a task definition ARN']
  ]
  it.each(refused)('refuses %s', (_name, family, arn, revision, input, message) => {
    let caught: unknown
    try {
      describeTarget(family, arn, revision)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(InputError)
    expect((caught as InputError).input).toBe(input)
    expect((caught as InputError).message.startsWith(`input ${input}: `)).toBe(true)
    expect((caught as InputError).message).toContain(message)
  })
})
