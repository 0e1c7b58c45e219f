import { effectiveCommand, planContainer, withoutAgentWrapper } from '../../../src/core/container-plan.js'
import { dropPrivilegesWrapper } from '../../../src/core/agent.js'
import { withoutEmptyValues } from '../../../src/core/empty-values.js'
import type { ImageFacts } from '../../../src/core/image-facts.js'

const SCRIPT = '/var/lib/lacework-backup/lacework-sidecar.sh'
const WRAPPER = ['/bin/sh', '-c', `sudo -n ${SCRIPT} && exec "$0" "$@"`]
const nginx: ImageFacts = { reference: 'nginx:1.23.1', user: '', entrypoint: ['/docker-entrypoint.sh'], cmd: ['nginx', '-g', 'daemon off;'] }
const unprivileged: ImageFacts = { ...nginx, reference: 'nginxinc/nginx-unprivileged:1.23.1', user: '101' }

describe('effectiveCommand follows Docker rules (docs/facts.md §1)', () => {
  it('uses the image entrypoint and cmd when the task definition sets neither', () => {
    expect(effectiveCommand({ name: 'web' }, nginx).argv).toEqual(['/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;'])
  })
  it('drops the image Cmd when the task definition sets only entryPoint', () => {
    expect(effectiveCommand({ name: 'web', entryPoint: ['/bin/echo', 'EP'] }, nginx).argv).toEqual(['/bin/echo', 'EP'])
  })
  it('keeps the image entrypoint when the task definition sets only command', () => {
    expect(effectiveCommand({ name: 'web', command: ['hello'] }, nginx).argv).toEqual(['/docker-entrypoint.sh', 'hello'])
  })
  it('treats an empty entryPoint list as unset, as ECS drops empty values', () => {
    expect(effectiveCommand({ name: 'web', entryPoint: [] }, nginx).command).toEqual(['nginx', '-g', 'daemon off;'])
  })
  it('lets the task definition user beat the image user', () => {
    expect(effectiveCommand({ name: 'web', user: 'root' }, unprivileged).user).toBe('root')
    expect(effectiveCommand({ name: 'web' }, unprivileged).user).toBe('101')
  })
})

describe('planContainer decides the pattern', () => {
  const sidecar = { mode: 'sidecar', nonRootStrategy: 'sudo' } as const
  const embedded = { mode: 'embedded', nonRootStrategy: 'sudo' } as const

  it('root-sidecar: wraps the entrypoint in the task definition and restates the command', () => {
    const plan = planContainer({ name: 'web' }, nginx, sidecar)
    expect(plan.pattern).toEqual({ appUser: 'root', placement: 'sidecar' })
    expect(plan.entryPoint).toEqual([SCRIPT, '/docker-entrypoint.sh'])
    expect(plan.command).toEqual(['nginx', '-g', 'daemon off;'])
    expect(plan.build).toBeUndefined()
    expect(plan.attachSidecar).toBe(true)
    expect(plan.addPtrace).toBe(false)
  })

  it('root-embedded: builds an image whose ENTRYPOINT starts with the script and keeps CMD', () => {
    const plan = planContainer({ name: 'web' }, nginx, embedded)
    expect(plan.pattern).toEqual({ appUser: 'root', placement: 'embedded' })
    expect(plan.build).toEqual({
      base: 'nginx:1.23.1',
      copyAgent: true,
      imageUser: '',
      entrypoint: [SCRIPT, '/docker-entrypoint.sh'],
      cmd: ['nginx', '-g', 'daemon off;']
    })
    expect(plan.entryPoint).toBeUndefined()
    expect(plan.attachSidecar).toBe(false)
  })

  it('root-embedded: a task-definition entryPoint is wrapped too, else it would bypass the image', () => {
    const plan = planContainer({ name: 'web', entryPoint: ['/app/start'] }, nginx, embedded)
    expect(plan.entryPoint).toEqual([SCRIPT, '/app/start'])
  })

  it('nonroot-sidecar: sudo image, exec wrapper with the whole argv, command removed, SYS_PTRACE', () => {
    const plan = planContainer({ name: 'web', command: ['nginx', '-g', 'daemon off;'] }, unprivileged, sidecar)
    expect(plan.pattern).toEqual({ appUser: 'non-root', strategy: 'sudo', placement: 'sidecar' })
    expect(plan.reason).toContain('101')
    expect(plan.build).toEqual({ base: unprivileged.reference, copyAgent: false, sudoUser: '101', imageUser: '101' })
    expect(plan.entryPoint).toEqual([...WRAPPER, '/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;'])
    expect(plan.command).toBeNull()
    expect(plan.addPtrace).toBe(true)
  })

  it('nonroot-embedded: agent copied, sudo enabled, wrapper as the image ENTRYPOINT', () => {
    const plan = planContainer({ name: 'web' }, unprivileged, embedded)
    expect(plan.pattern).toEqual({ appUser: 'non-root', strategy: 'sudo', placement: 'embedded' })
    expect(plan.build?.entrypoint).toEqual([...WRAPPER, '/docker-entrypoint.sh'])
    expect(plan.build?.cmd).toEqual(['nginx', '-g', 'daemon off;'])
    expect(plan.build?.copyAgent).toBe(true)
    expect(plan.build?.sudoUser).toBe('101')
  })

  it('nonroot-as-root-sidecar: user root, no image, no SYS_PTRACE', () => {
    const plan = planContainer({ name: 'web' }, unprivileged, { mode: 'sidecar', nonRootStrategy: 'run-as-root' })
    expect(plan.pattern).toEqual({ appUser: 'non-root', strategy: 'run-as-root', placement: 'sidecar' })
    expect(plan.runAsRoot).toBe(true)
    expect(plan.build).toBeUndefined()
    expect(plan.addPtrace).toBe(false)
    expect(plan.entryPoint).toEqual([SCRIPT, '/docker-entrypoint.sh'])
  })

  it('a task definition that already runs the image as root counts as nonroot-as-root', () => {
    const plan = planContainer({ name: 'web', user: '0:0' }, unprivileged, sidecar)
    expect(plan.pattern).toEqual({ appUser: 'non-root', strategy: 'run-as-root', placement: 'sidecar' })
    expect(plan.runAsRoot).toBe(false)
  })

  it('an image with Cmd only is wrapped without an image entrypoint', () => {
    const cmdOnly: ImageFacts = { reference: 'app:1', user: '', entrypoint: [], cmd: ['python', 'app.py'] }
    const plan = planContainer({ name: 'app' }, cmdOnly, sidecar)
    expect(plan.entryPoint).toEqual([SCRIPT])
    expect(plan.command).toEqual(['python', 'app.py'])
  })

  it('does not wrap twice: the script inside sh -c counts as instrumented', () => {
    const seed = { name: 'web', entryPoint: ['sh', '-c', `sudo -E ${SCRIPT} && /docker-entrypoint.sh nginx -g 'daemon off;'`] }
    const plan = planContainer(seed, unprivileged, sidecar)
    expect(plan.alreadyInstrumented).toBe(true)
    expect(plan.entryPoint).toBeUndefined()
    expect(plan.build).toBeUndefined()
    expect(plan.warnings).toEqual([])
  })

  it('warns when an instrumented container runs the script as non-root without sudo', () => {
    const plan = planContainer({ name: 'web', entryPoint: [SCRIPT, '/docker-entrypoint.sh'] }, unprivileged, sidecar)
    expect(plan.warnings.map(warning => warning.message).join()).toContain('244')
  })

  it('warns, at the field, about a read-only root and capabilities Fargate rejects', () => {
    const plan = planContainer(
      { name: 'web', readonlyRootFilesystem: true, linuxParameters: { capabilities: { add: ['NET_ADMIN', 'SYS_PTRACE'] } } },
      nginx,
      sidecar
    )
    expect(plan.warnings.map(warning => warning.field)).toEqual(['readonlyRootFilesystem', 'linuxParameters'])
    expect(plan.warnings[1].message).toBe('Fargate allows adding only SYS_PTRACE; it rejects NET_ADMIN')
  })

  it.each(['x;id', '$(id)', 'a b', '`id`', "o'neil", '101\nroot'])('refuses user %j in the sudo and drop patterns: it would reach a shell', user => {
    expect(() => planContainer({ name: 'web', user }, unprivileged, sidecar)).toThrow('is not a plain user name or id')
    expect(() => planContainer({ name: 'web', user }, unprivileged, { mode: 'embedded', nonRootStrategy: 'drop-privileges' })).toThrow('is not a plain user name or id')
  })

  it('takes plain names, ids and groups', () => {
    for (const user of ['101', 'nginx', 'app:app', '1000:1000', 'svc.user-1']) {
      expect(planContainer({ name: 'web', user }, unprivileged, sidecar).pattern).toEqual({ appUser: 'non-root', strategy: 'sudo', placement: 'sidecar' })
    }
  })

  it('refuses a container that runs nothing', () => {
    const empty: ImageFacts = { reference: 'scratch:1', user: '', entrypoint: [], cmd: [] }
    expect(() => planContainer({ name: 'x' }, empty, sidecar)).toThrow('neither the task definition nor image scratch:1')
  })
})

describe('withoutAgentWrapper: the task-definition argv as it was before the action wrapped it', () => {
  const argv = ['/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;']

  it('takes off the agent script, the sudo wrapper and the drop-privileges wrapper (with the user it set)', () => {
    expect(withoutAgentWrapper({ name: 'web', entryPoint: [SCRIPT, ...argv], command: ['x'] }, '')).toEqual({ name: 'web', entryPoint: argv, command: ['x'] })
    expect(withoutAgentWrapper({ name: 'web', entryPoint: [...WRAPPER, ...argv] }, '101')).toEqual({ name: 'web', entryPoint: argv })
    expect(withoutAgentWrapper({ name: 'web', user: 'root', entryPoint: [...dropPrivilegesWrapper('101'), ...argv] }, '101')).toEqual({ name: 'web', entryPoint: argv, user: undefined })
    // The agent script alone: the image's own entrypoint runs again.
    expect(withoutAgentWrapper({ name: 'web', entryPoint: [SCRIPT] }, '')).toEqual({ name: 'web', entryPoint: undefined })
  })

  it('leaves alone what it did not write: a hand-made sh -c, a drop wrapper for another user', () => {
    expect(withoutAgentWrapper({ name: 'web', entryPoint: ['sh', '-c', `${SCRIPT} && nginx`] }, '')).toBeUndefined()
    expect(withoutAgentWrapper({ name: 'web', user: 'root', entryPoint: [...dropPrivilegesWrapper('102'), ...argv] }, '101')).toBeUndefined()
    expect(withoutAgentWrapper({ name: 'web' }, '')).toBeUndefined()
  })

  it('re-planned for a plain new image, a sudo-wrapped container gets its sudo-enabled build again, with the same entryPoint', () => {
    const wrapped = { name: 'web', image: 'reg/web:lacework-old', entryPoint: [...WRAPPER, ...argv] }
    const again = planContainer(wrapped, unprivileged, { mode: 'sidecar', nonRootStrategy: 'sudo' })
    expect(again.alreadyInstrumented).toBe(true)
    const fresh = planContainer(withoutAgentWrapper(wrapped, unprivileged.user) ?? wrapped, unprivileged, { mode: 'sidecar', nonRootStrategy: 'sudo' })
    expect(fresh.alreadyInstrumented).toBe(false)
    expect(fresh.build?.base).toBe('nginxinc/nginx-unprivileged:1.23.1')
    expect(fresh.entryPoint).toEqual(wrapped.entryPoint)
  })
})

describe('empty values inside intrinsic functions', () => {
  it('are arguments, not unset fields: Fn::Join keeps its "" delimiter', () => {
    const image = { 'Fn::Join': ['', [{ Ref: 'Registry' }, '/web:1']] }
    expect(withoutEmptyValues({ name: 'web', image, user: '' })).toEqual({ name: 'web', image })
  })
})

describe('the agent through sudo, as the plan and the audit both tell it', () => {
  it('a word that merely contains "sudo" is not sudo: the 244 warning stays', () => {
    const plan = planContainer({ name: 'web', entryPoint: [SCRIPT, '/app/sudoku-server'] }, unprivileged, { mode: 'sidecar', nonRootStrategy: 'sudo' })
    expect(plan.warnings.map(w => w.message)).toContain('the agent script runs as user 101 without sudo: it will exit with status 244')
    const wrapped = planContainer({ name: 'web', entryPoint: [...WRAPPER, '/app/server'] }, unprivileged, { mode: 'sidecar', nonRootStrategy: 'sudo' })
    expect(wrapped.warnings).toEqual([])
  })
})
