import { renderVerifyReport } from '../../src/verify/report.js'
import type { LocalTaskDefinition } from '../../src/verify/types.js'
import { IMAGES, requireServices } from '../support/test-env.js'
import { NOTHING, VERIFY_ENV, expectGreen, leftovers, uniqueLabel, wrap, verifyLocally } from './support.js'
import { patternNamed } from '../support/patterns.js'

// The local runner keeps ECS's rules, proved by containers that fail (and so fail the run) unless each rule
// holds: a SUCCESS dependency is a probe.

beforeAll(requireServices)

const options = (label: string): Parameters<typeof verifyLocally>[1] => ({ timeoutSeconds: 45, settleSeconds: 1, expectations: [], label, env: VERIFY_ENV })

it('dependsOn START/COMPLETE/SUCCESS/HEALTHY, one network namespace, volumes, volumesFrom readOnly, workingDirectory, environment, secrets, user, capabilities', async () => {
  const definition: LocalTaskDefinition = {
    family: 'semantics',
    volumes: [{ name: 'site' }],
    containerDefinitions: [
      {
        // Reaches the web container on localhost once it is healthy, reads the agent files through a read-only
        // volumesFrom, cannot write the read-only mount nor chown without CAP_CHOWN.
        name: 'probe',
        image: IMAGES.busybox,
        essential: false,
        user: '0',
        dependsOn: [
          { containerName: 'web', condition: 'HEALTHY' },
          { containerName: 'agent', condition: 'COMPLETE' }
        ],
        volumesFrom: [{ sourceContainer: 'agent', readOnly: true }],
        mountPoints: [{ sourceVolume: 'site', containerPath: '/srv', readOnly: true }],
        linuxParameters: { capabilities: { drop: ['CHOWN'] } },
        // Secrets become placeholders (a well-formed token, or the value given); the server URL a closed local port.
        environment: [{ name: 'LaceworkServerUrl', value: 'https://api.fra.lacework.net' }],
        secrets: [
          { name: 'LaceworkAccessToken', valueFrom: 'arn:aws:ssm:eu-central-1:123456789012:parameter/lacework/token' },
          { name: 'DB_PASSWORD', valueFrom: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:db-AbCdEf' }
        ],
        entryPoint: ['/bin/sh', '-c'],
        command: [
          'set -e; test "$LaceworkServerUrl" = https://127.0.0.1:9; test "$DB_PASSWORD" = given-for-the-test; ' +
            'echo "$LaceworkAccessToken" | grep -Eq "^[A-Za-z0-9][-_A-Za-z0-9]{10,55}[A-Za-z0-9]$"; ' +
            'wget -q -O - http://127.0.0.1:8080/index.html | grep -q "hello from seed"; ' +
            'test -x /var/lib/lacework-backup/lacework-sidecar.sh; ! touch /var/lib/lacework-backup/x 2>/dev/null; ' +
            '! touch /srv/x 2>/dev/null; mkdir -p /run/probe; ! chown 1000 /run/probe 2>/dev/null; echo probe ok'
        ]
      },
      {
        name: 'web',
        image: IMAGES.busybox,
        essential: true,
        dependsOn: [{ containerName: 'seed', condition: 'SUCCESS' }],
        mountPoints: [{ sourceVolume: 'site', containerPath: '/srv' }],
        command: ['httpd', '-f', '-p', '8080', '-h', '/srv'],
        portMappings: [{ containerPort: 8080, hostPort: 8080, protocol: 'tcp' }],
        healthCheck: { command: ['CMD-SHELL', 'wget -q -O /dev/null http://127.0.0.1:8080/index.html'], interval: 5, retries: 3 }
      },
      {
        // Writes the page into the task volume, from its working directory, with its environment.
        name: 'seed',
        image: IMAGES.busybox,
        essential: false,
        user: '0',
        workingDirectory: '/srv',
        environment: [{ name: 'GREETING', value: 'hello from seed' }],
        mountPoints: [{ sourceVolume: 'site', containerPath: '/srv' }],
        entryPoint: ['/bin/sh', '-c'],
        command: ['test "$(pwd)" = /srv && test "$(id -u)" = 0 && echo "$GREETING" > index.html']
      },
      { name: 'agent', image: IMAGES.agent, essential: false },
      {
        name: 'app',
        image: IMAGES.busybox,
        essential: true,
        dependsOn: [
          { containerName: 'probe', condition: 'SUCCESS' },
          { containerName: 'web', condition: 'START' }
        ],
        command: ['sleep', '600']
      }
    ]
  }
  const label = uniqueLabel('semantics')
  const report = await verifyLocally(definition, { ...options(label), secretValues: { DB_PASSWORD: 'given-for-the-test' } })
  expectGreen(report)
  const passed = report.checks.filter(check => check.ok).map(check => `${check.container}: ${check.check}`)
  expect(passed).toEqual(
    expect.arrayContaining([
      'seed: dependency SUCCESS of web',
      'web: dependency HEALTHY of probe',
      'agent: dependency COMPLETE of probe',
      'probe: dependency SUCCESS of app',
      'web: dependency START of app',
      'web: healthy',
      'web: port 8080/tcp',
      'web: running',
      'app: running'
    ])
  )
  // Started in dependency order.
  const starts = report.checks.filter(check => check.check === 'start').map(check => check.container)
  expect(starts.indexOf('seed')).toBeLessThan(starts.indexOf('web'))
  expect(starts.indexOf('web')).toBeLessThan(starts.indexOf('probe'))
  expect(starts.indexOf('probe')).toBeLessThan(starts.indexOf('app'))
  expect(leftovers(label)).toEqual(NOTHING)
})

it('a readonlyRootFilesystem container verifies green once the agent paths (and nginx\'s) are writable volumes', async () => {
  const definition = JSON.parse(JSON.stringify(wrap({ plain: 'nginx-root.json', image: IMAGES.nginx, target: 'root-sidecar' }))) as LocalTaskDefinition
  const paths = ['/var/lib/lacework', '/var/log/lacework', '/tmp', '/var/cache/nginx', '/run']
  definition.volumes = paths.map((_, index) => ({ name: `v${index}` }))
  const nginx = definition.containerDefinitions[0]
  nginx.readonlyRootFilesystem = true
  nginx.mountPoints = paths.map((containerPath, index) => ({ sourceVolume: `v${index}`, containerPath }))
  const label = uniqueLabel('read-only-ok')
  const report = await verifyLocally(definition, { ...options(label), expectations: [{ container: 'nginx', pattern: patternNamed('root-sidecar'), appUser: '0' }] })
  expectGreen(report)
  expect(leftovers(label)).toEqual(NOTHING)
})

it('a port nothing listens on fails, though the port proxy accepts the connection', async () => {
  const definition: LocalTaskDefinition = {
    containerDefinitions: [{ name: 'app', image: IMAGES.busybox, essential: true, command: ['sleep', '600'], portMappings: [{ containerPort: 9000 }], stopTimeout: 2 }]
  }
  const label = uniqueLabel('no-listener')
  const report = await verifyLocally(definition, { ...options(label), timeoutSeconds: 6 })
  expect(report.ok).toBe(false)
  expect(report.failure).toBe('nothing in the task answers on port 9000 (mapped for app): the app does not listen on 9000; map the port it listens on')
  expect(leftovers(label)).toEqual(NOTHING)
})

it('an essential container that stops fails the task; ECS rules the definition breaks fail before anything starts', async () => {
  const exits: LocalTaskDefinition = {
    containerDefinitions: [{ name: 'app', image: IMAGES.busybox, essential: true, command: ['sh', '-c', 'echo giving up >&2; exit 3'] }]
  }
  const report = await verifyLocally(exits, options(uniqueLabel('exits')))
  expect(report.failure).toMatch(/^app exited 3 after \d+\.\d s as uid 1000: giving up$/)

  const bad: LocalTaskDefinition = {
    containerDefinitions: [
      { name: 'app', image: IMAGES.busybox, essential: true, dependsOn: [{ containerName: 'init', condition: 'SUCCESS' }] },
      { name: 'init', image: IMAGES.busybox, essential: true }
    ]
  }
  const label = uniqueLabel('bad-definition')
  const refused = await verifyLocally(bad, options(label))
  expect(refused.failure).toBe('container app depends on init with SUCCESS, which ECS refuses for an essential container: set "essential": false on init')
  expect(leftovers(label)).toEqual(NOTHING)
})

it('renders the report as a markdown table, one line per check, cells escaped', () => {
  const text = renderVerifyReport({
    ok: false,
    failure: 'nginx could not bind port 80 as uid 101: …',
    checks: [
      { container: 'nginx', check: 'running', ok: false, evidence: 'exited 1 | bind() failed\nsecond line' },
      { container: 'datacollector-sidecar', check: 'dependency SUCCESS of nginx', ok: true, evidence: 'exited 0 after 0.1 s' }
    ]
  })
  expect(text).toBe(
    [
      '**verify failed** ❌: nginx could not bind port 80 as uid 101: …',
      '',
      '| container | check | result | evidence |',
      '|---|---|---|---|',
      '| nginx | running | ❌ fail | exited 1 \\| bind() failed ⏎ second line |',
      '| datacollector-sidecar | dependency SUCCESS of nginx | ✅ pass | exited 0 after 0.1 s |',
      ''
    ].join('\n')
  )
})
