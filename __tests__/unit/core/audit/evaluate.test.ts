import { auditTask, type AgentImageFacts, type AuditedTask } from '../../../../src/core/audit/evaluate.js'
import type { RuleId } from '../../../../src/core/audit/rules.js'
import type { SudoersHit } from '../../../../src/core/audit/sudoers.js'
import type { ImageFacts } from '../../../../src/core/image-facts.js'
import { JsonDocument } from '../../../../src/core/json-document.js'
import type { ContainerDefinition } from '../../../../src/core/task-definition.js'
import { appContainers } from '../../../../src/core/plumbing.js'

// Each rule with a case that trips it and a near miss that does not. Task definitions are written here by hand, as
// the seed's and the action's outputs look.

const SCRIPT = '/var/lib/lacework-backup/lacework-sidecar.sh'
const AGENT = 'lacework/datacollector:latest-sidecar'
const PINNED = `${AGENT}@sha256:${'a'.repeat(64)}`
const nginx: ImageFacts = { reference: 'nginx:1.23.1', user: '', entrypoint: ['/docker-entrypoint.sh'], cmd: ['nginx', '-g', 'daemon off;'] }
const unprivileged: ImageFacts = { ...nginx, reference: 'nginxinc/nginx-unprivileged:1.23.1', user: '101' }
const goodAgent: AgentImageFacts = { volumeCovers: true, architectures: ['amd64'], tagDigest: `sha256:${'a'.repeat(64)}` }
const sidecar = { name: 'datacollector-sidecar', image: PINNED, essential: false }
const wired = { volumesFrom: [{ sourceContainer: 'datacollector-sidecar', readOnly: true }], dependsOn: [{ containerName: 'datacollector-sidecar', condition: 'SUCCESS' }] }
const rootSidecar = { name: 'app', image: 'nginx:1.23.1', essential: true, entryPoint: [SCRIPT, '/docker-entrypoint.sh'], command: ['nginx', '-g', 'daemon off;'], ...wired }

function task(containers: ContainerDefinition[], extra: Partial<AuditedTask> & { runtimePlatform?: object } = {}): AuditedTask {
  const text = JSON.stringify({ containerDefinitions: containers, ...(extra.runtimePlatform ? { runtimePlatform: extra.runtimePlatform } : {}) }, null, 2)
  const document = JsonDocument.parse('task.json', text)
  return {
    file: 'task.json',
    id: '',
    definition: document.value as AuditedTask['definition'],
    architecture: 'amd64',
    locate: path => document.locate(path),
    valueAt: path => document.get(path),
    containers: appContainers(containers, 'datacollector-sidecar').targets,
    agentContainerName: 'datacollector-sidecar',
    facts: new Map(containers.filter(c => c.name !== 'datacollector-sidecar').map(c => [c.name, c.image === unprivileged.reference ? unprivileged : nginx])),
    sudoers: new Map(),
    agents: new Map([[PINNED, goodAgent]]),
    ...extra
  }
}

const rules = (audited: AuditedTask, ignore: RuleId[] = []): string[] => auditTask(audited, { ignore }).filter(f => !f.suppressed).map(f => f.ruleId)

describe('the action\'s own output gives no finding', () => {
  it('root-sidecar, pinned, token from a secret', () => {
    expect(rules(task([{ ...rootSidecar, secrets: [{ name: 'LaceworkAccessToken', valueFrom: 'arn:aws:ssm:x' }] }, sidecar]))).toEqual([])
  })
  it('nonroot-sidecar: the sudo wrapper with exec, SYS_PTRACE', () => {
    const app = { ...rootSidecar, image: unprivileged.reference, entryPoint: ['/bin/sh', '-c', `sudo -n ${SCRIPT} && exec "$0" "$@"`, '/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;'], command: undefined }
    expect(rules(task([app, sidecar]))).toEqual([])
  })
  it('root-embedded: the agent is the image\'s own entrypoint, no sidecar needed', () => {
    const embedded: ImageFacts = { ...nginx, reference: 'web@sha256:1', entrypoint: [SCRIPT, '/docker-entrypoint.sh'] }
    const audited = task([{ name: 'app', image: 'web@sha256:1', essential: true }])
    expect(rules({ ...audited, facts: new Map([['app', embedded]]) })).toEqual([])
  })
})

describe('each rule: a case that trips it, and a near miss', () => {
  it('LWF001: no agent in an essential container; not for a non-essential one or the plumbing', () => {
    expect(rules(task([{ name: 'app', image: 'nginx:1.23.1', essential: true }]))).toEqual(['LWF001'])
    expect(rules(task([{ name: 'job', image: 'nginx:1.23.1', essential: false }, rootSidecar, sidecar]))).toEqual([])
    expect(rules(task([{ name: 'xray', image: 'amazon/aws-xray-daemon:3', essential: true }, rootSidecar, sidecar]))).toEqual([])
  })

  it('LWF002: the sidecar missing, essential, not mounted, or not waited for SUCCESS', () => {
    expect(rules(task([rootSidecar]))).toEqual(['LWF002'])
    expect(rules(task([rootSidecar, { ...sidecar, essential: true }]))).toEqual(['LWF002'])
    expect(rules(task([{ ...rootSidecar, volumesFrom: [] }, sidecar]))).toEqual(['LWF002'])
    expect(rules(task([{ ...rootSidecar, dependsOn: [{ containerName: 'datacollector-sidecar', condition: 'START' }] }, sidecar]))).toEqual(['LWF002'])
    expect(rules({ ...task([rootSidecar, sidecar]), agents: new Map([[PINNED, { ...goodAgent, volumeCovers: false }]]) })).toEqual(['LWF002'])
    // Near miss: a non-essential sidecar whose image declares the volume, mounted read-only, waited for with SUCCESS.
    expect(rules(task([rootSidecar, sidecar]))).toEqual([])
    // The sidecar found by its image when it has another name (volumesFrom names it).
    const renamed = { ...sidecar, name: 'agent' }
    const app = { ...rootSidecar, volumesFrom: [{ sourceContainer: 'agent', readOnly: true }], dependsOn: [{ containerName: 'agent', condition: 'SUCCESS' }] }
    expect(rules({ ...task([app, renamed]), facts: new Map([['app', nginx]]) })).toEqual([])
  })

  it('LWF003: sh -c "… && app" without exec; with exec it is fine', () => {
    const seed = { ...rootSidecar, image: unprivileged.reference, entryPoint: ['sh', '-c', `sudo ${SCRIPT} && /docker-entrypoint.sh nginx -g 'daemon off;'`], command: undefined }
    expect(rules(task([seed, sidecar]))).toEqual(['LWF003'])
    expect(rules(task([{ ...seed, entryPoint: ['sh', '-c', `sudo ${SCRIPT} && exec /docker-entrypoint.sh nginx`] }, sidecar]))).toEqual([])
  })

  it('LWF004: the token in plain text; from secrets it is fine', () => {
    expect(rules(task([{ ...rootSidecar, environment: [{ name: 'LaceworkAccessToken', value: 'abc123abc123abc' }] }, sidecar]))).toEqual(['LWF004'])
    expect(rules(task([{ ...rootSidecar, environment: [{ name: 'LaceworkServerUrl', value: 'https://api.fra.lacework.net' }] }, sidecar]))).toEqual([])
  })

  it('LWF005 and LWF006: the agent by tag; pinned to a digest its tag no longer names', () => {
    const byTag = { ...sidecar, image: AGENT }
    expect(rules({ ...task([rootSidecar, byTag]), agents: new Map([[AGENT, goodAgent]]) })).toEqual(['LWF005'])
    expect(rules({ ...task([rootSidecar, sidecar]), agents: new Map([[PINNED, { ...goodAgent, tagDigest: `sha256:${'b'.repeat(64)}` }]]) })).toEqual(['LWF006'])
    // Near misses: pinned, and the tag still names the pinned digest; or the tag could not be looked up (no claim).
    expect(rules({ ...task([rootSidecar, sidecar]), agents: new Map([[PINNED, goodAgent]]) })).toEqual([])
    expect(rules({ ...task([rootSidecar, sidecar]), agents: new Map([[PINNED, { ...goodAgent, tagDigest: undefined }]]) })).toEqual([])
  })

  it('LWF007: the agent script as a non-root user without sudo; with sudo, or as root, it is fine', () => {
    const asApp = { ...rootSidecar, image: unprivileged.reference }
    expect(rules(task([asApp, sidecar]))).toEqual(['LWF007'])
    expect(rules(task([{ ...asApp, user: 'root' }, sidecar]))).toEqual([])
    const viaSudo = { ...asApp, entryPoint: ['/bin/sh', '-c', `sudo -n ${SCRIPT} && exec "$0" "$@"`, '/docker-entrypoint.sh'], command: ['nginx', '-g', 'daemon off;'] }
    expect(rules(task([viaSudo, sidecar]))).toEqual([])
  })

  it('LWF008: a sudoers rule broader than the agent script for the app user', () => {
    const hit: SudoersHit = { file: '/etc/sudoers', line: 55, kind: 'all', entry: '%sudo ALL=(ALL) NOPASSWD:ALL', via: '%sudo', detail: 'ALL commands', passwordRequired: false }
    const app = { ...rootSidecar, image: unprivileged.reference, entryPoint: ['/bin/sh', '-c', `sudo -n ${SCRIPT} && exec "$0" "$@"`, '/docker-entrypoint.sh'] }
    expect(rules({ ...task([app, sidecar]), sudoers: new Map([['app', [hit]]]) })).toEqual(['LWF008'])
    expect(rules({ ...task([app, sidecar]), sudoers: new Map([['app', []]]) })).toEqual([])
  })

  it('LWF008 names the rule that needs no password first, whatever its place in the files', () => {
    const debianDefault: SudoersHit = { file: '/etc/sudoers', line: 50, kind: 'all', entry: '%sudo\tALL=(ALL:ALL) ALL', via: '%sudo', detail: 'runs any command as root', passwordRequired: true }
    const seed: SudoersHit = { file: '/etc/sudoers', line: 57, kind: 'all', entry: '%sudo ALL=(ALL) NOPASSWD:ALL', via: '%sudo', detail: 'runs any command as root', passwordRequired: false }
    const app = { ...rootSidecar, image: unprivileged.reference, entryPoint: ['/bin/sh', '-c', `sudo -n ${SCRIPT} && exec "$0" "$@"`, '/docker-entrypoint.sh'] }
    const [finding] = auditTask({ ...task([app, sidecar]), sudoers: new Map([['app', [debianDefault, seed]]]) }, { ignore: [] })
    expect(finding.message).toContain('/etc/sudoers:57 `%sudo ALL=(ALL) NOPASSWD:ALL`')
    expect(finding.message).toContain('(and 1 more)')
    // Only rules that ask for a password: the first of them.
    const [only] = auditTask({ ...task([app, sidecar]), sudoers: new Map([['app', [debianDefault]]]) }, { ignore: [] })
    expect(only.message).toContain('/etc/sudoers:50')
  })

  it('LWF009: an ARM64 task with an AMD64-only agent', () => {
    expect(rules({ ...task([rootSidecar, sidecar], { runtimePlatform: { cpuArchitecture: 'ARM64' } }), architecture: 'arm64' })).toEqual(['LWF009'])
    const both = { ...goodAgent, architectures: ['amd64', 'arm64'] as AgentImageFacts['architectures'] }
    expect(rules({ ...task([rootSidecar, sidecar], { runtimePlatform: { cpuArchitecture: 'ARM64' } }), architecture: 'arm64', agents: new Map([[PINNED, both]]) })).toEqual([])
  })

  it('LWF010: a read-only root without writable agent paths; with them it is fine', () => {
    expect(rules(task([{ ...rootSidecar, readonlyRootFilesystem: true }, sidecar]))).toEqual(['LWF010'])
    const mounts = ['/var/lib/lacework', '/var/log/lacework', '/tmp'].map((containerPath, i) => ({ sourceVolume: `v${i}`, containerPath }))
    expect(rules(task([{ ...rootSidecar, readonlyRootFilesystem: true, mountPoints: mounts }, sidecar]))).toEqual([])
  })
})

describe('suppressions and locations', () => {
  it('audit-ignore and the container label suppress, and say so', () => {
    const audited = task([{ name: 'app', image: 'nginx:1.23.1', essential: true, dockerLabels: { 'lacework-fargate.ignore': 'LWF001' } }])
    const [finding] = auditTask(audited, { ignore: [] })
    expect(finding.suppressed).toEqual({ by: 'label', justification: 'lacework-fargate.ignore names LWF001' })
    expect(auditTask(task([{ name: 'app', image: 'nginx:1.23.1', essential: true }]), { ignore: ['LWF001'] })[0].suppressed?.by).toBe('input')
  })

  it("LWF003 of an embedded image sits at the image's line: the shell comes from its Entrypoint, not from the task", () => {
    const seedEmbedded: ImageFacts = { ...unprivileged, reference: 'web:nonroot-embedded', entrypoint: ['sh', '-c', `sudo -E ${SCRIPT} && /docker-entrypoint.sh nginx -g 'daemon off;'`], cmd: [] }
    const containers = [{ name: 'app', image: 'web:nonroot-embedded', essential: true }]
    const audited = { ...task(containers), facts: new Map([['app', seedEmbedded]]) }
    const [finding] = auditTask(audited, { ignore: [] })
    expect(finding.ruleId).toBe('LWF003')
    const lines = JSON.stringify({ containerDefinitions: containers }, null, 2).split('\n')
    const line = lines.findIndex(text => text.includes('"image": "web:nonroot-embedded"')) + 1
    expect(finding.location).toEqual({ file: 'task.json', line, column: lines[line - 1].indexOf('"image"') + 1 })
    // A shell in the task's command (the image has no Entrypoint) sits at the command.
    const inCommand = [{ name: 'app', image: 'web:nonroot-embedded', essential: true, command: seedEmbedded.entrypoint }]
    const fromCommand = auditTask({ ...task(inCommand), facts: new Map([['app', { ...seedEmbedded, entrypoint: [] }]]) }, { ignore: [] }).find(f => f.ruleId === 'LWF003')
    if (!fromCommand) throw new Error('no LWF003 for the shell in command')
    const commandLines = JSON.stringify({ containerDefinitions: inCommand }, null, 2).split('\n')
    expect(fromCommand.location.line).toBe(commandLines.findIndex(text => text.includes('"command"')) + 1)
  })

  it('a finding sits at the line of its node', () => {
    const audited = task([rootSidecar, { ...sidecar, image: AGENT }])
    const [finding] = auditTask({ ...audited, agents: new Map([[AGENT, goodAgent]]) }, { ignore: [] })
    const lines = JSON.stringify({ containerDefinitions: [rootSidecar, { ...sidecar, image: AGENT }] }, null, 2).split('\n')
    const line = lines.findIndex(text => text.includes(`"image": "${AGENT}"`)) + 1
    expect(finding.location).toEqual({ file: 'task.json', line, column: lines[line - 1].indexOf('"image"') + 1 })
  })
})

describe('what the audit looks at', () => {
  it('only the containers it is given (container-name): another container without the agent is not reported', () => {
    const worker = { name: 'worker', image: 'nginx:1.23.1', essential: true }
    const both = task([rootSidecar, sidecar, worker])
    expect(rules(both)).toContain('LWF001')
    expect(rules({ ...both, containers: [0] })).not.toContain('LWF001')
  })

  it('LWF004 points at the token entry as the file has it, empty entries before it included', () => {
    const app = { ...rootSidecar, environment: [{ name: '', value: '' }, { name: 'LaceworkAccessToken', value: 'plainTokenValue_0123' }] }
    const audited = task([app, sidecar])
    const [finding] = auditTask(audited, { ignore: [] }).filter(f => f.ruleId === 'LWF004')
    expect(finding.location).toEqual(audited.locate(['containerDefinitions', 0, 'environment', 1]))
    expect(finding.location).not.toEqual(audited.locate(['containerDefinitions', 0, 'environment', 0]))
  })
})
