import type { InputName } from '../../../src/app/context.js'
import { run } from '../../../src/main.js'
import { MemoryDocker, MemoryFiles, MemoryHost, MemoryRegistry, fakeServices, imageConfig, layer } from '../../support/fakes.js'

// The audit through `run`, in memory: the seed's shape of a task definition, an image whose sudoers lets its user become
// root, an agent image by tag. Expected rule ids and lines are written out from the rules.

const SCRIPT = '/var/lib/lacework-backup/lacework-sidecar.sh'
const APP = 'reg.test/shop/web:1'
const AGENT = 'reg.test/lacework/datacollector:latest-sidecar'
const SECRET = 'arn:aws:ssm:eu-central-1:123456789012:parameter/lacework/token'

/** A registry with a non-root app whose image has the seed's `%sudo ALL=(ALL) NOPASSWD:ALL` with its user in group sudo. */
function registry(): MemoryRegistry {
  const memory = new MemoryRegistry()
  const base = layer([
    { path: 'etc' },
    { path: 'etc/passwd', data: 'root:x:0:0:root:/root:/bin/sh\nnginx:x:101:101::/nonexistent:/bin/false\n' },
    { path: 'etc/group', data: 'root:x:0:\nsudo:x:27:nginx\nnginx:x:101:\n' },
    { path: 'etc/sudoers', data: 'Defaults env_reset\nroot ALL=(ALL:ALL) ALL\n%sudo ALL=(ALL) NOPASSWD:ALL\n@includedir /etc/sudoers.d\n' },
    { path: 'bin' },
    { path: 'bin/sh', data: 'shell' }
  ])
  memory.addImage(APP, imageConfig({ User: '101', Entrypoint: ['/docker-entrypoint.sh'], Cmd: ['nginx', '-g', 'daemon off;'] }, [base]), [base])
  const agentLayer = layer([{ path: 'var/lib/lacework-backup' }, { path: 'var/lib/lacework-backup/lacework-sidecar.sh', data: '#!/bin/sh\n' }])
  memory.addImage(AGENT, imageConfig({ Volumes: { '/var/lib/lacework-backup': {} } }, [agentLayer]), [agentLayer])
  return memory
}

const seedShaped = `{
  "family": "web",
  "containerDefinitions": [
    {
      "name": "web",
      "image": "${APP}",
      "essential": true,
      "entryPoint": ["sh", "-c", "sudo -E ${SCRIPT} && /docker-entrypoint.sh nginx -g 'daemon off;'"],
      "environment": [
        { "name": "LaceworkAccessToken", "value": "seedToken_0123456789abcdef" }
      ],
      "volumesFrom": [{ "sourceContainer": "datacollector-sidecar", "readOnly": true }],
      "dependsOn": [{ "containerName": "datacollector-sidecar", "condition": "SUCCESS" }]
    },
    {
      "name": "datacollector-sidecar",
      "image": "${AGENT}",
      "essential": false
    }
  ]
}
`

async function audit(text: string, inputs: Partial<Record<InputName, string>> = {}, memory = registry()): Promise<{ host: MemoryHost; files: MemoryFiles }> {
  const files = new MemoryFiles({ 'task.json': text })
  const host = new MemoryHost({ 'task-definition': 'task.json', audit: 'true', inspect: 'registry', sarif: 'out/audit.sarif', ...inputs }, { outputFolder: 'out' })
  await run(host, fakeServices({ files, registry: memory }))
  return { host, files }
}

const lineOf = (text: string, needle: string): number => text.split('\n').findIndex(line => line.includes(needle)) + 1

describe('the audit of a task definition shaped like the seed\'s', () => {
  it('finds the un-exec\'d shell, the plain-text token, the unpinned agent and the broad sudo rule, each at its line', async () => {
    const { host, files } = await audit(seedShaped)
    const all = [...host.errors, ...host.warnings, ...host.notices].map(({ message, location }) => [message.slice(0, 6), location?.line])
    expect(all.sort()).toEqual(
      [
        ['LWF003', lineOf(seedShaped, '"entryPoint"')],
        ['LWF004', lineOf(seedShaped, '"name": "LaceworkAccessToken"')],
        ['LWF005', lineOf(seedShaped, `"image": "${AGENT}"`)],
        ['LWF008', lineOf(seedShaped, `"image": "${APP}"`)],
        // The gate's own line, without a location.
        ['audit:', undefined]
      ].sort()
    )
    expect(JSON.parse(host.outputs.findings)).toEqual({ error: 2, warning: 2, note: 0, suppressed: 0 })
    expect(host.failed).toBe(true)
    // Nothing is written but the report.
    expect([...files.written.keys()]).toEqual(['out/audit.sarif'])
    const sarif = JSON.parse(files.written.get('out/audit.sarif') as string)
    expect(sarif.runs[0].results.map((result: { ruleId: string }) => result.ruleId).sort()).toEqual(['LWF003', 'LWF004', 'LWF005', 'LWF008'])
    expect(host.summaries.join('')).toContain('| LWF008 SudoBroaderThanAgent |')
  })

  it('fail-on never reports the same findings and succeeds; audit-ignore suppresses and says so', async () => {
    const never = await audit(seedShaped, { 'fail-on': 'never' })
    expect(never.host.failed).toBe(false)
    expect(JSON.parse(never.host.outputs.findings).error).toBe(2)
    const ignored = await audit(seedShaped, { 'fail-on': 'warning', 'audit-ignore': 'LWF003,LWF004,LWF005,LWF008' })
    expect(ignored.host.failed).toBe(false)
    expect(JSON.parse(ignored.host.outputs.findings)).toEqual({ error: 0, warning: 0, note: 0, suppressed: 4 })
  })

  it('an uninstrumented task definition gives LWF001', async () => {
    const plain = `{\n  "containerDefinitions": [\n    { "name": "web", "image": "${APP}", "essential": true }\n  ]\n}\n`
    const { host } = await audit(plain)
    expect(host.errors.map(error => error.message.slice(0, 6))).toEqual(['LWF001', 'audit:'])
  })
})

describe('the action\'s own output audits clean', () => {
  it('instrumented with run-as-root, a pinned agent and a secret: no error, no warning', async () => {
    const memory = registry()
    const plain = `{\n  "containerDefinitions": [\n    { "name": "web", "image": "${APP}", "essential": true }\n  ]\n}\n`
    const files = new MemoryFiles({ 'task.json': plain })
    const instrument = new MemoryHost({ 'task-definition': 'task.json', inspect: 'registry', 'agent-image': AGENT, 'non-root-strategy': 'run-as-root', 'lacework-access-token-secret': SECRET }, { outputFolder: 'out' })
    await run(instrument, fakeServices({ files, registry: memory }))
    expect(instrument.errors).toEqual([])
    const { host } = await audit(files.written.get('out/task.json') as string, {}, memory)
    // The image still has the broad rule, but the app runs as root: the rule gives it nothing it does not have.
    expect([...host.errors, ...host.warnings].map(item => item.message)).toEqual([])
    expect(JSON.parse(host.outputs.findings)).toEqual({ error: 0, warning: 0, note: 0, suppressed: 0 })
  })
})

describe('an image outside Docker\'s reference grammar', () => {
  it('never reaches docker: one warning at its line, and no inspect or pull', async () => {
    const calls: string[] = []
    class RecordingDocker extends MemoryDocker {
      override async inspect(reference: string): ReturnType<MemoryDocker['inspect']> {
        calls.push(`inspect ${reference}`)
        return super.inspect(reference)
      }
      override async pull(reference: string): Promise<void> {
        calls.push(`pull ${reference}`)
        return super.pull(reference)
      }
    }
    const text = '{\n  "family": "web",\n  "containerDefinitions": [\n    { "name": "web", "essential": true, "image": "--privileged" }\n  ]\n}\n'
    const h = new MemoryHost({ audit: 'true', 'task-definition': 'task.json', inspect: 'docker', 'fail-on': 'never' })
    await run(h, fakeServices({ files: new MemoryFiles({ 'task.json': text }), docker: new RecordingDocker({ ok: true, version: '28.0.0' }) }))
    expect(calls).toEqual([])
    const warnings = h.warnings.filter(w => w.message.includes('--privileged'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0].location).toMatchObject({ file: 'task.json', line: 4 })
  })
})

describe('the agent image as the task pins it', () => {
  const withAgent = (agent: string): string => seedShaped.replace(`"image": "${AGENT}"`, `"image": "${agent}"`)
  const agentLayer = layer([{ path: 'var/lib/lacework-backup' }, { path: 'var/lib/lacework-backup/lacework-sidecar.sh', data: '#!/bin/sh\n# v2\n' }])

  it('pinned by digest alone: there is no tag to be stale against, so no LWF006, even when latest has moved', async () => {
    const memory = registry()
    const first = await memory.getManifest(AGENT)
    memory.addImage(AGENT, imageConfig({ Volumes: { '/var/lib/lacework-backup': {} } }, [agentLayer]), [agentLayer])
    memory.addImage('reg.test/lacework/datacollector:latest', imageConfig({ Volumes: { '/var/lib/lacework-backup': {} } }, [agentLayer]), [agentLayer])
    const { host } = await audit(withAgent(`reg.test/lacework/datacollector@${first.digest}`), { 'fail-on': 'never' }, memory)
    const ids = [...host.errors, ...host.warnings].map(finding => finding.message.slice(0, 6))
    expect(ids).not.toContain('LWF006')
    expect(ids).not.toContain('LWF005')
    expect(host.warnings.filter(warning => warning.message.startsWith('agent image'))).toEqual([])
  })

  it('pinned by tag and digest, with the tag moved since: LWF006 names what the tag names now', async () => {
    const memory = registry()
    const first = await memory.getManifest(AGENT)
    const moved = memory.addImage(AGENT, imageConfig({ Volumes: { '/var/lib/lacework-backup': {} } }, [agentLayer]), [agentLayer])
    const { host } = await audit(withAgent(`${AGENT}@${first.digest}`), { 'fail-on': 'never' }, memory)
    const stale = host.warnings.filter(warning => warning.message.startsWith('LWF006'))
    expect(stale).toHaveLength(1)
    expect(stale[0].message).toContain(`pins ${first.digest}, but its tag latest-sidecar names ${moved} now`)
  })
})
