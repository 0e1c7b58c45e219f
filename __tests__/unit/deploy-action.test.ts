import { deployActionRequest } from '../support/deploy-action.js'

// The deploy action's reading rules. The first five cases are aws-actions/amazon-ecs-deploy-task-definition's own
// unit tests (index.test.js: input file text → the registerTaskDefinition argument it expects); the rest follow
// from its index.js (cited in support/deploy-action.ts) and are worked out by hand from JSON.stringify's rules.

const WARNING = (attribute: string): string =>
  `Ignoring property '${attribute}' in the task definition file. ` +
  'This property is returned by the Amazon ECS DescribeTaskDefinition API and may be shown in the ECS console, ' +
  'but it is not a valid field when registering a new task definition. ' +
  'This field can be safely removed from your task definition file.'

/** The request and the warnings for `text`. */
function read(text: string): { request: Record<string, unknown>; warnings: string[] } {
  const warnings: string[] = []
  const request = deployActionRequest(text, message => warnings.push(message))
  return { request, warnings }
}

describe("the deploy action's own test cases", () => {
  it('cleans null keys out of the task definition contents', () => {
    expect(read('{ "ipcMode": null, "family": "task-def-family" }').request).toEqual({ family: 'task-def-family' })
  })

  it('cleans empty arrays out of the task definition contents', () => {
    expect(read('{ "tags": [], "family": "task-def-family" }').request).toEqual({ family: 'task-def-family' })
  })

  it('cleans empty strings and objects out of the task definition contents (and keeps an environment value "")', () => {
    const text = `
      {
        "memory": "",
        "containerDefinitions": [ {
          "name": "sample-container",
          "logConfiguration": {},
          "repositoryCredentials": { "credentialsParameter": "" },
          "command": [ "" ],
          "environment": [
            { "name": "hello", "value": "world" },
            { "name": "test", "value": "" },
            { "name": "", "value": "" }
          ],
          "secretOptions": [ { "name": "", "valueFrom": "" } ],
          "cpu": 0,
          "essential": false
        } ],
        "requiresCompatibilities": [ "EC2" ],
        "registeredAt": 1611690781,
        "family": "task-def-family"
      }`
    const { request, warnings } = read(text)
    expect(request).toEqual({
      containerDefinitions: [
        {
          name: 'sample-container',
          environment: [
            { name: 'hello', value: 'world' },
            { name: 'test', value: '' }
          ],
          cpu: 0,
          essential: false
        }
      ],
      requiresCompatibilities: ['EC2'],
      family: 'task-def-family'
    })
    expect(warnings).toEqual([WARNING('registeredAt')])
  })

  it('maintains empty keys in proxyConfiguration.properties for APPMESH', () => {
    const text = `
      {
        "family": "task-def-family",
        "containerDefinitions": [ { "name": "sample-container", "environment": [ { "name": "hello", "value": "world" }, { "name": "", "value": "" } ] } ],
        "proxyConfiguration": {
          "type": "APPMESH",
          "containerName": "envoy",
          "properties": [
            { "name": "ProxyIngressPort", "value": "15000" },
            { "name": "IgnoredGID", "value": "" },
            { "name": "EgressIgnoredPorts", "value": "" },
            { "value": "some-value" }
          ]
        }
      }`
    const { request } = read(text)
    // Key order too: a restored member goes after the ones that survived cleaning.
    expect(JSON.stringify(request)).toBe(
      JSON.stringify({
        family: 'task-def-family',
        containerDefinitions: [{ name: 'sample-container', environment: [{ name: 'hello', value: 'world' }] }],
        proxyConfiguration: {
          type: 'APPMESH',
          containerName: 'envoy',
          properties: [
            { name: 'ProxyIngressPort', value: '15000' },
            { name: 'IgnoredGID', value: '' },
            { name: 'EgressIgnoredPorts', value: '' },
            { value: 'some-value', name: '' }
          ]
        }
      })
    )
  })

  it('cleans invalid keys out of the task definition contents, warning for each', () => {
    const { request, warnings } = read(
      '{ "compatibilities": ["EC2"], "taskDefinitionArn": "arn:aws...:task-def-family:1", "family": "task-def-family", "revision": 1, "status": "ACTIVE" }'
    )
    expect(request).toEqual({ family: 'task-def-family' })
    // In the order of the action's list, not the file's.
    expect(warnings).toEqual([WARNING('compatibilities'), WARNING('taskDefinitionArn'), WARNING('revision'), WARNING('status')])
  })
})

describe('the rules read from its index.js', () => {
  it('reads YAML as well as JSON (yaml.parse)', () => {
    const yaml = ['family: web', 'cpu: "256"', 'containerDefinitions:', '  - name: web', '    image: nginx:1.25.0', '    essential: true', '    environment:', '      - name: EMPTY']
      .join('\n')
    expect(read(yaml).request).toEqual({
      family: 'web',
      cpu: '256',
      containerDefinitions: [{ name: 'web', image: 'nginx:1.25.0', essential: true, environment: [{ name: 'EMPTY', value: '' }] }]
    })
  })

  it('converts no types: a numeric cpu and memory stay numbers, 0 and false stay', () => {
    const { request } = read('{ "family": "web", "cpu": 256, "memory": "512", "containerDefinitions": [ { "name": "web", "cpu": 0, "essential": false } ] }')
    expect(request).toEqual({ family: 'web', cpu: 256, memory: '512', containerDefinitions: [{ name: 'web', cpu: 0, essential: false }] })
    expect(typeof request.cpu).toBe('number')
  })

  it('removes nested empties: objects and arrays holding only empty values, at any depth', () => {
    const text = '{ "family": "web", "a": { "b": { "c": "" } }, "d": [ [], [ null ], {}, { "e": [ "" ] } ], "volumes": [ { "name": "" } ] }'
    expect(read(text).request).toEqual({ family: 'web' })
  })

  it('filters empty elements out of arrays, keeping the others in order', () => {
    const secret = '{ "name": "A", "valueFrom": "arn:aws:ssm:eu-central-1:123456789012:parameter/a" }'
    const text = `{ "family": "web", "containerDefinitions": [ { "name": "web", "command": [ "", "sh", null, "-c", {} ], "secrets": [ null, ${secret} ] } ] }`
    expect(read(text).request).toEqual({
      family: 'web',
      containerDefinitions: [{ name: 'web', command: ['sh', '-c'], secrets: [{ name: 'A', valueFrom: 'arn:aws:ssm:eu-central-1:123456789012:parameter/a' }] }]
    })
  })

  it('gives an environment entry without a value (or a null or "" one) the value "", and adds no name', () => {
    const environment = '[ { "value": "", "name": "A" }, { "name": "B", "value": null }, { "name": "C" }, { "value": "v" } ]'
    const text = `{ "family": "web", "containerDefinitions": [ { "name": "web", "environment": ${environment} } ] }`
    const expected = [{ name: 'A', value: '' }, { name: 'B', value: '' }, { name: 'C', value: '' }, { value: 'v' }]
    expect(JSON.stringify(read(text).request)).toBe(JSON.stringify({ family: 'web', containerDefinitions: [{ name: 'web', environment: expected }] }))
  })

  it('drops an environment list of only empty entries entirely (nothing to restore)', () => {
    const text = '{ "family": "web", "containerDefinitions": [ { "name": "web", "environment": [ { "name": "", "value": "" } ] } ] }'
    expect(read(text).request).toEqual({ family: 'web', containerDefinitions: [{ name: 'web' }] })
  })

  it('restores empty proxy properties only for APPMESH', () => {
    const text = '{ "family": "web", "proxyConfiguration": { "type": "OTHER", "containerName": "envoy", "properties": [ { "name": "A", "value": "" } ] } }'
    expect(read(text).request).toEqual({ family: 'web', proxyConfiguration: { type: 'OTHER', containerName: 'envoy', properties: [{ name: 'A' }] } })
  })

  it('removes only truthy ignored attributes: revision 0 and status false stay, without a warning', () => {
    const { request, warnings } = read('{ "family": "web", "revision": 0, "status": false, "registeredBy": "arn:aws:iam::123456789012:user/x" }')
    expect(request).toEqual({ family: 'web', revision: 0, status: false })
    expect(warnings).toEqual([WARNING('registeredBy')])
  })

  it('goes through JSON text: a YAML .nan or .inf becomes null', () => {
    expect(read('family: web\ncpu: .nan\nmemory: .inf').request).toEqual({ family: 'web', cpu: null, memory: null })
  })

  it('keeps the key order of the file', () => {
    expect(Object.keys(read('{ "memory": "512", "family": "web", "ipcMode": null, "cpu": "256" }').request)).toEqual(['memory', 'family', 'cpu'])
  })

  it.each([
    ['an empty file', ''],
    ['a file holding only null', 'null'],
    ['an empty object', '{}'],
    ['an object of only empty values', '{ "family": "", "containerDefinitions": [] }']
  ])('fails before registering on %s (JSON.parse of nothing)', (_name, text) => {
    expect(() => deployActionRequest(text)).toThrow(SyntaxError)
  })

  it('fails on a duplicate key (yaml 2 refuses them)', () => {
    expect(() => deployActionRequest('{ "family": "web", "family": "api" }')).toThrow(/unique/)
  })

  it('fails on containerDefinitions that is not a list, as its forEach does', () => {
    expect(() => deployActionRequest('{ "family": "web", "containerDefinitions": { "web": { "environment": [ { "name": "A" } ] } } }')).toThrow(TypeError)
  })
})
