import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, runAction as runActionIn } from './support/action.js'

// Warnings and input forms through the bundled action, with image facts from saved inspect output (no engine).

const inspect = join(ROOT, 'examples/image-inspect.json')
// No registry is reached in these tests: the agent image stays unpinned.
const runAction = (inputs: Record<string, string>) => runActionIn({ 'pin-agent-image': 'false', ...inputs })
const TOKEN = 'warnTestToken_0123456789'

function write(name: string, content: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'lwf-warn-')), name)
  writeFileSync(file, typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`)
  return file
}

const plainRoot = (): { containerDefinitions: Record<string, unknown>[]; [key: string]: unknown } =>
  JSON.parse(readFileSync(join(ROOT, 'examples/nginx-root.json'), 'utf8'))

describe('warnings carry the task definition line', () => {
  // (An ARM64 task is no warning case: its agent image is always looked up, and one without arm64 is an error:
  // __tests__/agent-image.test.ts.)
  it('readonlyRootFilesystem, another capability and a plaintext token', () => {
    const td = plainRoot()
    Object.assign(td.containerDefinitions[0], { readonlyRootFilesystem: true, linuxParameters: { capabilities: { add: ['NET_ADMIN'] } } })
    const file = write('task.json', td)
    const run = runAction({ 'task-definition': file, 'image-inspect-file': inspect, 'lacework-access-token': TOKEN })
    expect(run.status).toBe(0)
    const warnings = run.stdout.split('\n').filter(line => line.startsWith('::warning'))
    // Each annotation's line is where the field's key stands in the file, found here by searching the text.
    const lines = readFileSync(file, 'utf8').split('\n')
    const at = (key: string): string => {
      const index = lines.findIndex(line => line.includes(`"${key}"`))
      return `line=${index + 1},col=${lines[index].indexOf('"') + 1}`
    }
    expect(warnings).toEqual([
      '::warning::lacework-access-token puts the token in plain text into the task definition; prefer lacework-access-token-secret (an SSM parameter or Secrets Manager ARN)',
      `::warning file=${file},${at('readonlyRootFilesystem')}::container nginx: readonlyRootFilesystem is true: the agent writes /var/lib/lacework, /var/log/lacework and /tmp; mount volumes there`,
      `::warning file=${file},${at('linuxParameters')}::container nginx: Fargate allows adding only SYS_PTRACE; it rejects NET_ADMIN`
    ])
  })

  it('a token the agent would refuse', () => {
    const run = runAction({ 'task-definition': write('t.json', plainRoot()), 'image-inspect-file': inspect, 'lacework-access-token': 'short' })
    expect(run.status).toBe(0)
    expect(run.stdout).toContain('::warning::lacework-access-token does not have the form the agent accepts (12 to 57 letters, digits, - or _): the agent will exit with status 100')
  })
})

describe('inputs', () => {
  it('describe-task-definition output: unwrapped, read-only fields dropped', () => {
    const td = plainRoot()
    const described = { taskDefinition: { ...td, taskDefinitionArn: 'arn:aws:ecs:eu-central-1:012345678901:task-definition/nginx-root:7', revision: 7, status: 'ACTIVE', compatibilities: ['EC2', 'FARGATE'], requiresAttributes: [{ name: 'x' }], registeredAt: '2026-11-01T10:00:00Z', registeredBy: 'arn:aws:iam::012345678901:user/me' } }
    const run = runAction({ 'task-definition': write('described.json', described), 'image-inspect-file': inspect, 'lacework-access-token-secret': 'arn:aws:ssm:eu-central-1:012345678901:parameter/lw' })
    expect(run.status).toBe(0)
    const written = JSON.parse(readFileSync(run.outputs['task-definition'], 'utf8'))
    expect(Object.keys(written).sort()).toEqual(Object.keys(td).sort())
    expect(written.containerDefinitions[0].secrets).toEqual([{ name: 'LaceworkAccessToken', valueFrom: 'arn:aws:ssm:eu-central-1:012345678901:parameter/lw' }])
  })

  it('an output path of its own, and several named containers', () => {
    const td = plainRoot()
    td.containerDefinitions.push({ ...td.containerDefinitions[0], name: 'worker', portMappings: [] })
    const output = join(mkdtempSync(join(tmpdir(), 'lwf-out-')), 'nested', 'out.json')
    const run = runAction({ 'task-definition': write('t.json', td), 'container-name': 'nginx,\nworker', output, 'image-inspect-file': inspect, 'lacework-access-token': TOKEN })
    expect(run.status).toBe(0)
    expect(run.outputs['task-definition']).toBe(output)
    expect(run.outputs.pattern).toBe('nginx=root-sidecar,worker=root-sidecar')
    expect(run.outputs.image).toBe('nginx=nginx:1.23.1,worker=nginx:1.23.1')
    const written = JSON.parse(readFileSync(output, 'utf8'))
    expect(written.containerDefinitions.map((c: { name: string }) => c.name)).toEqual(['nginx', 'worker', 'datacollector-sidecar'])
  })

  it('`image` with several containers selected is refused', () => {
    const td = plainRoot()
    td.containerDefinitions.push({ ...td.containerDefinitions[0], name: 'worker' })
    const run = runAction({ 'task-definition': write('t.json', td), image: 'nginx:1.23.1', 'image-inspect-file': inspect, 'lacework-access-token': TOKEN })
    expect(run.status).toBe(1)
    expect(run.stdout).toContain('::error::input image: sets the image of one container, but 2 are selected; name one with container-name')
  })

  it('a token already in the task definition is enough, and is masked in the log', () => {
    const td = plainRoot()
    td.containerDefinitions[0].environment = [{ name: 'LaceworkAccessToken', value: 'alreadyThereToken_12345' }]
    const run = runAction({ 'task-definition': write('t.json', td), 'image-inspect-file': inspect })
    expect(run.status).toBe(0)
    expect(run.stdout).toContain('::add-mask::alreadyThereToken_12345')
    expect(run.stdout.split('\n').filter(line => !line.startsWith('::add-mask::')).join('\n')).not.toContain('alreadyThereToken_12345')
  })

  it('inputs not given (no plaintext token, no GitHub token) add no empty mask, which the runner would warn about', () => {
    const run = runAction({
      'task-definition': write('t.json', plainRoot()),
      'image-inspect-file': inspect,
      'lacework-access-token-secret': 'arn:aws:ssm:eu-central-1:123456789012:parameter/lacework/token'
    })
    expect(run.status).toBe(0)
    expect(run.stdout.split('\n').filter(line => /^::add-mask::\s*$/.test(line))).toEqual([])
  })
})
