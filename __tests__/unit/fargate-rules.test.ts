import { asksForFargate, cpuUnits, FARGATE_TASK_SIZES, memoryMiB, validateFargateTask } from '../support/fargate-rules.js'

// The Fargate rules, one near miss (valid, as close to the rule as it gets) and one hit per rule. Expected values
// come from the AWS pages the rules cite (quoted in fargate-rules.ts), not from the validator.

type Json = Record<string, unknown>
type Task = Json & { containerDefinitions: Json[] }

/** A valid root-sidecar Fargate task definition (what this action writes), changed by `change`. */
function task(change: (task: Task) => void = () => undefined): Task {
  const value: Task = {
    family: 'web',
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '256',
    memory: '512',
    containerDefinitions: [
      {
        name: 'web',
        image: 'nginx:1.23.1',
        portMappings: [{ containerPort: 80, hostPort: 80 }],
        linuxParameters: { capabilities: { add: ['SYS_PTRACE'] } },
        volumesFrom: [{ sourceContainer: 'datacollector-sidecar', readOnly: true }],
        dependsOn: [{ containerName: 'datacollector-sidecar', condition: 'SUCCESS' }]
      },
      { name: 'datacollector-sidecar', image: 'lacework/datacollector:latest-sidecar', essential: false }
    ]
  }
  change(value)
  return value
}

/** The problems as `rule path`. */
const problems = (change: (task: Task) => void): string[] => validateFargateTask(task(change)).map(problem => `${problem.rule} ${problem.path}`)
const size = (cpu: string, memory: string) => (value: Task) => Object.assign(value, { cpu, memory })
const sidecar = (value: Task): Json => value.containerDefinitions[1]
const web = (value: Task): Json => value.containerDefinitions[0]

describe('validateFargateTask', () => {
  it('finds nothing in a valid root-sidecar task definition', () => {
    expect(validateFargateTask(task())).toEqual([])
  })

  describe('networkMode (RegisterTaskDefinition: "the awsvpc network mode is required")', () => {
    it('hit: bridge, and absent (which means bridge)', () => {
      expect(problems(value => (value.networkMode = 'bridge'))).toEqual(['network-mode networkMode'])
      expect(problems(value => delete value.networkMode)).toEqual(['network-mode networkMode'])
    })
  })

  describe('task cpu/memory (the Fargate table of task-cpu-memory-error.html)', () => {
    it.each([
      ['256', '2048'],
      ['512', '1024'],
      ['1024', '8192'],
      ['2048', '16384'],
      ['4096', '30720'],
      ['8192', String(16 * 1024)],
      ['8192', String(60 * 1024)],
      ['16384', String(32 * 1024)],
      ['16384', String(120 * 1024)],
      ['1 vCPU', '2 GB'],
      ['.5 vcpu', '1GB']
    ])('near miss: cpu %s with memory %s', (cpu, memory) => {
      expect(problems(size(cpu, memory))).toEqual([])
    })

    it.each([
      ['256', '4096', 'memory'],
      ['256', '3072', 'memory'],
      ['1024', '9216', 'memory'],
      ['4096', '31744', 'memory'],
      // 8 vCPU: 16 GB to 60 GB in 4 GB steps; 18 GB is not a step, 64 GB is past the end.
      ['8192', String(18 * 1024), 'memory'],
      ['8192', String(64 * 1024), 'memory'],
      // 16 vCPU: 32 GB to 120 GB in 8 GB steps.
      ['16384', String(36 * 1024), 'memory'],
      ['16384', String(128 * 1024), 'memory'],
      ['3000', '4096', 'cpu'],
      ['32768', String(240 * 1024), 'cpu'],
      ['lots', '512', 'cpu']
    ])('hit: cpu %s with memory %s (%s)', (cpu, memory, path) => {
      expect(problems(size(cpu, memory))).toEqual([`task-size ${path}`])
    })

    it('hit: cpu and memory missing (both required on Fargate)', () => {
      expect(problems(value => (delete value.cpu, delete value.memory))).toEqual(['task-size cpu', 'task-size memory'])
    })

    it('names the memory values allowed with the cpu', () => {
      const [problem] = validateFargateTask(task(size('256', '4096')))
      expect(problem.message).toContain('512, 1024, 2048')
    })

    it('Windows containers: near miss 1 vCPU, hit .5 vCPU and 8 vCPU (Linux only)', () => {
      const runtimePlatform = { operatingSystemFamily: 'WINDOWS_SERVER_2022_CORE' }
      const windows = (cpu: string, memory: string) => (value: Task) => Object.assign(value, { cpu, memory, runtimePlatform })
      expect(problems(windows('1024', '2048'))).toEqual([])
      expect(problems(windows('512', '1024'))).toEqual(['task-size cpu'])
      expect(problems(windows('8192', '16384'))).toEqual(['task-size cpu'])
    })

    it('holds the whole table: 3, 4, 7, 13, 23, 12 and 12 memory values for .25 to 16 vCPU', () => {
      // 2 vCPU: 4 to 16 GB by 1 GB; 4 vCPU: 8 to 30 GB by 1 GB; 8 vCPU: 16 to 60 GB by 4 GB; 16 vCPU: 32 to 120 GB by 8 GB.
      expect([...FARGATE_TASK_SIZES].map(([cpu, memory]) => [cpu, memory.length])).toEqual([
        [256, 3],
        [512, 4],
        [1024, 7],
        [2048, 13],
        [4096, 23],
        [8192, 12],
        [16384, 12]
      ])
    })
  })

  describe('capabilities (KernelCapabilities: Fargate only supports adding SYS_PTRACE)', () => {
    it('hit: NET_ADMIN beside SYS_PTRACE', () => {
      expect(problems(value => (web(value).linuxParameters = { capabilities: { add: ['SYS_PTRACE', 'NET_ADMIN'] } }))).toEqual([
        'capability containerDefinitions[0].linuxParameters.capabilities.add[1]'
      ])
    })
    it('near miss: dropping capabilities is not adding them', () => {
      expect(problems(value => (web(value).linuxParameters = { capabilities: { add: ['SYS_PTRACE'], drop: ['NET_ADMIN', 'ALL'] } }))).toEqual([])
    })
  })

  describe('containers per task definition (service quota: 10)', () => {
    const containers = (count: number) => (value: Task) => {
      for (let index = value.containerDefinitions.length; index < count; index++) {
        value.containerDefinitions.push({ name: `extra-${index}`, image: 'busybox', essential: false })
      }
    }
    it('near miss: 10', () => expect(problems(containers(10))).toEqual([]))
    it('hit: 11', () => expect(problems(containers(11))).toEqual(['container-count containerDefinitions']))
  })

  describe('container names (ContainerDefinition name: up to 255 letters, numbers, underscores, hyphens; unique)', () => {
    it('near miss: 255 characters of every allowed kind', () => {
      const name = `Ab9_-${'x'.repeat(250)}`
      expect(problems(value => value.containerDefinitions.push({ name, image: 'busybox', essential: false }))).toEqual([])
    })
    it('hit: 256 characters, a dot, empty, missing', () => {
      for (const name of ['x'.repeat(256), 'web.app', '', undefined]) {
        expect(problems(value => value.containerDefinitions.push({ name, image: 'busybox', essential: false }))).toEqual(['container-name containerDefinitions[2].name'])
      }
    })
    it('near miss: web and web-2; hit: web twice', () => {
      expect(problems(value => value.containerDefinitions.push({ name: 'web-2', image: 'busybox' }))).toEqual([])
      expect(problems(value => value.containerDefinitions.push({ name: 'web', image: 'busybox' }))).toEqual(['unique-name containerDefinitions[2].name'])
    })
  })

  describe('volumesFrom (VolumeFrom sourceContainer: another container of the same task definition)', () => {
    it('hit: an unknown container, and the container itself', () => {
      const hit = ['volumes-from containerDefinitions[0].volumesFrom[0].sourceContainer']
      expect(problems(value => (web(value).volumesFrom = [{ sourceContainer: 'datacollector' }]))).toEqual(hit)
      expect(problems(value => (web(value).volumesFrom = [{ sourceContainer: 'web' }]))).toEqual(hit)
    })
  })

  describe('dependsOn (ContainerDependency)', () => {
    it('hit: an unknown container', () => {
      expect(problems(value => (web(value).dependsOn = [{ containerName: 'sidecar', condition: 'START' }]))).toEqual([
        'depends-on containerDefinitions[0].dependsOn[0].containerName'
      ])
    })
    it('near miss: START and HEALTHY on an essential container, SUCCESS on a non-essential one', () => {
      const dependsOn = [
        { containerName: 'web', condition: 'START' },
        { containerName: 'web', condition: 'HEALTHY' }
      ]
      expect(problems(value => value.containerDefinitions.push({ name: 'db', image: 'db', dependsOn }))).toEqual([])
    })
    it('hit: SUCCESS on an explicitly essential container, COMPLETE on one essential by default', () => {
      expect(problems(value => (sidecar(value).essential = true))).toEqual(['dependency-condition containerDefinitions[0].dependsOn[0].condition'])
      expect(problems(value => (delete sidecar(value).essential, (web(value).dependsOn = [{ containerName: 'datacollector-sidecar', condition: 'COMPLETE' }])))).toEqual([
        'dependency-condition containerDefinitions[0].dependsOn[0].condition'
      ])
    })
  })

  describe('essential (ContainerDefinition: at least one essential container; omitted means essential)', () => {
    it('near miss: the only essential container has essential omitted', () => {
      expect(problems(value => delete web(value).essential)).toEqual([])
    })
    it('hit: every container essential false', () => {
      expect(problems(value => (web(value).essential = false))).toEqual(['essential containerDefinitions'])
    })
  })

  describe('links (only with the bridge network mode), privileged (not on Fargate)', () => {
    it('near miss: an empty links list, privileged false', () => {
      expect(problems(value => Object.assign(web(value), { links: [], privileged: false }))).toEqual([])
    })
    it('hit: a link, privileged true', () => {
      expect(problems(value => Object.assign(web(value), { links: ['datacollector-sidecar'], privileged: true }))).toEqual([
        'links containerDefinitions[0].links',
        'privileged containerDefinitions[0].privileged'
      ])
    })
  })

  describe('host ports (PortMapping hostPort: blank or the containerPort with awsvpc)', () => {
    it('near miss: hostPort left out', () => {
      expect(problems(value => (web(value).portMappings = [{ containerPort: 8080 }]))).toEqual([])
    })
    it('hit: another port, and 0 (the bridge mode\'s "any port")', () => {
      expect(problems(value => (web(value).portMappings = [{ containerPort: 8080, hostPort: 80 }, { containerPort: 8443, hostPort: 0 }]))).toEqual([
        'host-port containerDefinitions[0].portMappings[0].hostPort',
        'host-port containerDefinitions[0].portMappings[1].hostPort'
      ])
    })
  })
})

describe('the helpers', () => {
  it('reads cpu as CPU units and memory as MiB, in both written forms (RegisterTaskDefinition cpu, memory)', () => {
    expect(['1024', '1 vCPU', '1 vcpu', '.25 vCPU', '16 vCPU', 'one'].map(cpuUnits)).toEqual([1024, 1024, 1024, 256, 16384, undefined])
    expect(['512', '1GB', '1 GB', '0.5 GB', '120 GB', '2 TB'].map(memoryMiB)).toEqual([512, 1024, 1024, 512, 122880, undefined])
  })
  it('tells a request that asks for FARGATE', () => {
    expect(asksForFargate({ requiresCompatibilities: ['EC2', 'FARGATE'] })).toBe(true)
    expect(asksForFargate({ requiresCompatibilities: ['EC2'] })).toBe(false)
    expect(asksForFargate({})).toBe(false)
  })
})
