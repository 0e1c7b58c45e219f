import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../support/action.js'
import {
  ECS_MODEL_PATH,
  ecsModel,
  formatErrors,
  loadServiceModel,
  validateOperationInput,
  validateRegisterTaskDefinition,
  type ServiceModel
} from '../support/ecs-model.js'

// The validator the property tests rely on, checked on hand-written task definitions. The schema is AWS's full ECS
// service model as python3-botocore ships it (enums, min/max, patterns); each expected enum list, bound and pattern
// below is copied from that model file (shapes ContainerCondition, NetworkMode, CPUArchitecture, Compatibility,
// LogDriver, Tags, TagKey, TagValue), not from the validator. Only the last test uses a model of its own.

const valid = (): Record<string, unknown> => ({
  family: 'web',
  networkMode: 'awsvpc',
  requiresCompatibilities: ['FARGATE'],
  cpu: '256',
  memory: '512',
  containerDefinitions: [
    {
      name: 'web',
      image: 'nginx:1.23.1',
      essential: true,
      cpu: 128,
      entryPoint: ['/docker-entrypoint.sh'],
      command: ['nginx', '-g', 'daemon off;'],
      environment: [{ name: 'A', value: '1' }, { name: 'EMPTY' }],
      secrets: [{ name: 'LaceworkAccessToken', valueFrom: 'arn:aws:ssm:eu-central-1:123456789012:parameter/t' }],
      linuxParameters: { capabilities: { add: ['SYS_PTRACE'] }, initProcessEnabled: true },
      logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/web' } },
      volumesFrom: [{ sourceContainer: 'datacollector-sidecar', readOnly: true }],
      dependsOn: [{ containerName: 'datacollector-sidecar', condition: 'SUCCESS' }]
    },
    { name: 'datacollector-sidecar', image: 'lacework/datacollector:latest-sidecar', essential: false }
  ]
})

type Td = Record<string, unknown> & { containerDefinitions: Record<string, unknown>[] }

function errorsOf(change: (td: Td) => void): string {
  const td = valid() as Td
  change(td)
  return formatErrors(validateRegisterTaskDefinition(td))
}

describe('the ECS RegisterTaskDefinition model validator', () => {
  it('reads the model python3-botocore ships (docs/facts.md §8: protocol json 1.1, target prefix AmazonEC2ContainerServiceV20141113)', () => {
    expect(ECS_MODEL_PATH).toBe('/usr/lib/python3/dist-packages/botocore/data/ecs/2014-11-13/service-2.json')
    expect(ecsModel().metadata).toMatchObject({
      serviceId: 'ECS',
      apiVersion: '2014-11-13',
      protocol: 'json',
      jsonVersion: '1.1',
      targetPrefix: 'AmazonEC2ContainerServiceV20141113'
    })
    expect(ecsModel().operations.RegisterTaskDefinition.input).toEqual({ shape: 'RegisterTaskDefinitionRequest' })
  })

  it('throws one clear error naming the file and the package when the model is missing', () => {
    const missing = '/nonexistent/botocore/data/ecs/2014-11-13/service-2.json'
    expect(() => loadServiceModel(missing)).toThrow(missing)
    expect(() => loadServiceModel(missing)).toThrow('python3-botocore')
  })

  it('accepts a complete hand-written task definition', () => {
    expect(formatErrors(validateRegisterTaskDefinition(valid()))).toBe('')
  })

  const examples = [
    ...readdirSync(join(ROOT, 'examples/seed')).filter(name => name.endsWith('.json')).map(name => `examples/seed/${name}`),
    'examples/nginx-root.json',
    'examples/nginx-nonroot.json'
  ]
  it.each(examples)('accepts %s', file => {
    expect(formatErrors(validateRegisterTaskDefinition(JSON.parse(readFileSync(join(ROOT, file), 'utf8'))))).toBe('')
  })

  it('rejects entryPoint given as a string instead of a list', () => {
    expect(errorsOf(td => (td.containerDefinitions[0].entryPoint = 'x'))).toBe('containerDefinitions[0].entryPoint: expected a list, got string "x"')
  })

  it('rejects unknown members, at the top and inside a container', () => {
    expect(errorsOf(td => (td.containerDefinition = []))).toMatch(/^containerDefinition: unknown member \(known: family, /)
    expect(errorsOf(td => (td.containerDefinitions[0].Image = 'nginx'))).toMatch(/^containerDefinitions\[0\]\.Image: unknown member/)
    // describe-task-definition's read-only fields are not request members.
    expect(errorsOf(td => (td.revision = 3))).toMatch(/^revision: unknown member/)
    expect(errorsOf(td => (td.containerDefinitions[0].linuxParameters = { capabilities: { add: ['SYS_PTRACE'], remove: [] } }))).toMatch(
      /^containerDefinitions\[0\]\.linuxParameters\.capabilities\.remove: unknown member/
    )
  })

  it('rejects missing required members', () => {
    expect(errorsOf(td => delete td.family)).toBe('family: is required')
    expect(errorsOf(td => delete (td as Record<string, unknown>).containerDefinitions)).toBe('containerDefinitions: is required')
    expect(errorsOf(td => (td.containerDefinitions[0].logConfiguration = { options: {} }))).toBe('containerDefinitions[0].logConfiguration.logDriver: is required')
    expect(errorsOf(td => (td.containerDefinitions[0].secrets = [{ name: 'T' }]))).toBe('containerDefinitions[0].secrets[0].valueFrom: is required')
  })

  it('rejects values of the wrong type: integer, boolean, string, map value, null', () => {
    expect(errorsOf(td => (td.containerDefinitions[0].cpu = '128'))).toBe('containerDefinitions[0].cpu: expected an integer, got string "128"')
    expect(errorsOf(td => (td.containerDefinitions[0].memory = 1.5))).toBe('containerDefinitions[0].memory: expected an integer, got number 1.5')
    expect(errorsOf(td => (td.cpu = 256))).toBe('cpu: expected a string, got number 256')
    expect(errorsOf(td => (td.containerDefinitions[0].essential = 'true'))).toBe('containerDefinitions[0].essential: expected a boolean, got string "true"')
    expect(errorsOf(td => (td.containerDefinitions[0].environment = [{ name: 'A', value: 1 }]))).toBe('containerDefinitions[0].environment[0].value: expected a string, got number 1')
    expect(errorsOf(td => (td.containerDefinitions[0].logConfiguration = { logDriver: 'awslogs', options: { a: true } }))).toBe(
      'containerDefinitions[0].logConfiguration.options.a: expected a string, got boolean true'
    )
    expect(errorsOf(td => (td.containerDefinitions[0].user = null))).toBe('containerDefinitions[0].user: null is not a string')
    expect(errorsOf(td => ((td as Record<string, unknown>).containerDefinitions = {}))).toBe('containerDefinitions: expected a list, got an object')
    expect(errorsOf(td => (td.containerDefinitions[0].environment = { A: '1' }))).toBe('containerDefinitions[0].environment: expected a list, got an object')
  })

  it('reports every error, not only the first', () => {
    const errors = validateRegisterTaskDefinition({ containerDefinitions: [{ name: 1, command: 'x' }], bogus: true })
    expect(errors.map(error => error.path).sort()).toEqual(['bogus', 'containerDefinitions[0].command', 'containerDefinitions[0].name', 'family'])
  })

  it('checks enums against the model: dependsOn condition, networkMode, cpuArchitecture, requiresCompatibilities, logDriver', () => {
    expect(errorsOf(td => (td.containerDefinitions[0].dependsOn = [{ containerName: 'datacollector-sidecar', condition: 'FINISHED' }]))).toBe(
      'containerDefinitions[0].dependsOn[0].condition: "FINISHED" is not one of START, COMPLETE, SUCCESS, HEALTHY'
    )
    expect(errorsOf(td => (td.networkMode = 'host2'))).toBe('networkMode: "host2" is not one of bridge, host, awsvpc, none')
    expect(errorsOf(td => (td.runtimePlatform = { cpuArchitecture: 'X86', operatingSystemFamily: 'LINUX' }))).toBe(
      'runtimePlatform.cpuArchitecture: "X86" is not one of X86_64, ARM64'
    )
    expect(errorsOf(td => (td.requiresCompatibilities = ['FARGATE', 'fargate']))).toBe('requiresCompatibilities[1]: "fargate" is not one of EC2, FARGATE, EXTERNAL')
    expect(errorsOf(td => (td.containerDefinitions[0].logConfiguration = { logDriver: 'cloudwatch' }))).toBe(
      'containerDefinitions[0].logConfiguration.logDriver: "cloudwatch" is not one of json-file, syslog, journald, gelf, fluentd, awslogs, splunk, awsfirelens'
    )
    // Near misses: every value of the same enums is accepted.
    const others = { networkMode: 'none', runtimePlatform: { cpuArchitecture: 'ARM64' }, requiresCompatibilities: ['EC2', 'FARGATE', 'EXTERNAL'] }
    expect(errorsOf(td => Object.assign(td, others))).toBe('')
  })

  it('checks bounds and patterns against the model: at most 50 tags, keys of 1 to 128 and values of 0 to 256 Unicode characters', () => {
    const tags = (count: number): { key: string; value: string }[] => Array.from({ length: count }, (_, index) => ({ key: `k${index}`, value: '' }))
    expect(errorsOf(td => (td.tags = tags(50)))).toBe('')
    expect(errorsOf(td => (td.tags = tags(51)))).toBe('tags: length 51 is above the maximum 50')
    expect(errorsOf(td => (td.tags = [{ key: '', value: 'v' }]))).toBe('tags[0].key: length 0 is below the minimum 1')
    // Characters, not UTF-16 units or bytes: 128 CJK letters are a valid key.
    expect(errorsOf(td => (td.tags = [{ key: '界'.repeat(128), value: 'v'.repeat(256) }]))).toBe('')
    expect(errorsOf(td => (td.tags = [{ key: 'k'.repeat(129), value: 'v'.repeat(257) }]))).toBe(
      'tags[0].key: length 129 is above the maximum 128\ntags[0].value: length 257 is above the maximum 256'
    )
    expect(errorsOf(td => (td.tags = [{ key: 'team: a/b=c+d-e@f_g.h', value: 'ok' }]))).toBe('')
    expect(errorsOf(td => (td.tags = [{ key: 'team!', value: 'ok' }]))).toBe('tags[0].key: "team!" does not match the pattern ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$')
  })

  it('checks enums and list bounds on a model of its own (no ECS request list has a minimum)', () => {
    const model: ServiceModel = {
      metadata: {},
      operations: { Op: { input: { shape: 'In' } } },
      shapes: {
        In: { type: 'structure', required: ['condition'], members: { condition: { shape: 'Condition' }, names: { shape: 'Names' } } },
        Condition: { type: 'string', enum: ['START', 'COMPLETE', 'SUCCESS', 'HEALTHY'] },
        Names: { type: 'list', member: { shape: 'String' }, min: 1, max: 2 },
        String: { type: 'string' }
      }
    }
    expect(validateOperationInput(model, 'Op', { condition: 'SUCCESS', names: ['a'] })).toEqual([])
    expect(formatErrors(validateOperationInput(model, 'Op', { condition: 'DONE', names: [] }))).toBe(
      'condition: "DONE" is not one of START, COMPLETE, SUCCESS, HEALTHY\nnames: length 0 is below the minimum 1'
    )
  })
})
