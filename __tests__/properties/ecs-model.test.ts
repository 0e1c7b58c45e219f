import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../support/action.js'
import { ecsModel, formatErrors, validateOperationInput, validateRegisterTaskDefinition, type ServiceModel } from '../support/ecs-model.js'

// The validator the property tests rely on, checked on hand-written task definitions. The schema is AWS's ECS
// service model from aws-sdk; only the last test uses a model of its own, for what that model file lacks (enums).

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
  it('reads the model aws-sdk ships', () => {
    expect(ecsModel().metadata.serviceId).toBe('ECS')
    expect(ecsModel().operations.RegisterTaskDefinition.input).toBeDefined()
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

  it('checks enums and bounds where the model has them (the full model form; aws-sdk v2 minified has neither)', () => {
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
