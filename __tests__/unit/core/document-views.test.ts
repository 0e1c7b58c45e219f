import { planContainer } from '../../../src/core/container-plan.js'
import type { EditableDocument } from '../../../src/core/document.js'
import { ContainerArrayView, LocatedAt, PascalCaseView, PrefixedView } from '../../../src/core/document-views.js'
import { TaskDefinitionError } from '../../../src/core/errors.js'
import type { ImageFacts } from '../../../src/core/image-facts.js'
import { JsonDocument } from '../../../src/core/json-document.js'
import { rewriteTaskDefinition, type AgentSettings } from '../../../src/core/rewrite.js'
import type { TaskDefinition } from '../../../src/core/task-definition.js'
import { ecsModel, formatErrors, validateRegisterTaskDefinition, type ServiceModel, type Shape } from '../../support/ecs-model.js'

const PROPERTIES = ['Resources', 'TaskDef', 'Properties']
const NEW_IMAGE = 'registry.example.com/web@sha256:1111111111111111111111111111111111111111111111111111111111111111'
const settings: AgentSettings = {
  agentImage: 'lacework/datacollector:latest-sidecar',
  agentContainerName: 'datacollector-sidecar',
  serverUrl: 'https://api.fra.lacework.net',
  token: { kind: 'secret', valueFrom: 'arn:aws:ssm:eu-central-1:123456789012:parameter/lacework/token' }
}
const nonRootNginx: ImageFacts = { reference: 'nginx:1.27', user: '101', entrypoint: ['/docker-entrypoint.sh'], cmd: ['nginx', '-g', 'daemon off;'] }

function templateView(text: string): { json: JsonDocument; view: PascalCaseView } {
  const json = JsonDocument.parse('template.json', text)
  return { json, view: new PascalCaseView(new PrefixedView(json, PROPERTIES)) }
}

/** Plans container 0 from what the view reads (ECS's shape) and applies the plan through the view. */
function instrument(view: EditableDocument, facts: ImageFacts, mode: 'sidecar' | 'embedded', token = settings.token): void {
  const definition = view.value as TaskDefinition
  const plan = planContainer(definition.containerDefinitions[0], facts, { mode, nonRootStrategy: 'sudo' })
  rewriteTaskDefinition(view, [{ index: 0, plan, image: NEW_IMAGE }], { ...settings, token })
}

const template = `{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Parameters": {
    "Stage": { "Type": "String", "Default": "prod" },
    "MetricsImage": { "Type": "String" }
  },
  "Resources": {
    "LogGroup": { "Type": "AWS::Logs::LogGroup" },
    "TaskDef": {
      "Type": "AWS::ECS::TaskDefinition",
      "Properties": {
        "Family": "web",
        "RequiresCompatibilities": ["FARGATE"],
        "ContainerDefinitions": [
          {
            "Name": "web",
            "Image": "nginx:1.27",
            "Environment": [
              { "Name": "A", "Value": "1" },
              { "Name": "STAGE", "Value": { "Ref": "Stage" } }
            ],
            "DockerLabels": { "com.example.team": "payments", "Tier": "front" },
            "LogConfiguration": {
              "LogDriver": "awslogs",
              "Options": { "awslogs-group": { "Ref": "LogGroup" }, "awslogs-region": { "Ref": "AWS::Region" }, "Mode": "non-blocking" }
            },
            "LinuxParameters": { "InitProcessEnabled": true }
          },
          {
            "Name": "log-router",
            "Image": { "Fn::Sub": "\${AWS::AccountId}.dkr.ecr.\${AWS::Region}.\${AWS::URLSuffix}/fluent-bit:2" },
            "FirelensConfiguration": { "Type": "fluentbit", "Options": { "enable-ecs-log-metadata": "true" } }
          },
          {
            "Name": "metrics",
            "Image": { "Ref": "MetricsImage" }
          }
        ]
      }
    }
  }
}
`

// What an author would write by hand for the sudo pattern with a sidecar: CloudFormation's names throughout.
const instrumentedTemplate = `{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Parameters": {
    "Stage": { "Type": "String", "Default": "prod" },
    "MetricsImage": { "Type": "String" }
  },
  "Resources": {
    "LogGroup": { "Type": "AWS::Logs::LogGroup" },
    "TaskDef": {
      "Type": "AWS::ECS::TaskDefinition",
      "Properties": {
        "Family": "web",
        "RequiresCompatibilities": ["FARGATE"],
        "ContainerDefinitions": [
          {
            "Name": "web",
            "Image": "${NEW_IMAGE}",
            "Environment": [
              { "Name": "A", "Value": "1" },
              { "Name": "STAGE", "Value": { "Ref": "Stage" } },
              {
                "Name": "LaceworkServerUrl",
                "Value": "https://api.fra.lacework.net"
              }
            ],
            "DockerLabels": { "com.example.team": "payments", "Tier": "front" },
            "LogConfiguration": {
              "LogDriver": "awslogs",
              "Options": { "awslogs-group": { "Ref": "LogGroup" }, "awslogs-region": { "Ref": "AWS::Region" }, "Mode": "non-blocking" }
            },
            "LinuxParameters": { "InitProcessEnabled": true, "Capabilities": { "Add": ["SYS_PTRACE"] } },
            "EntryPoint": [
              "/bin/sh",
              "-c",
              "sudo -n /var/lib/lacework-backup/lacework-sidecar.sh && exec \\"$0\\" \\"$@\\"",
              "/docker-entrypoint.sh",
              "nginx",
              "-g",
              "daemon off;"
            ],
            "Secrets": [
              {
                "Name": "LaceworkAccessToken",
                "ValueFrom": "arn:aws:ssm:eu-central-1:123456789012:parameter/lacework/token"
              }
            ],
            "VolumesFrom": [
              {
                "SourceContainer": "datacollector-sidecar",
                "ReadOnly": true
              }
            ],
            "DependsOn": [
              {
                "ContainerName": "datacollector-sidecar",
                "Condition": "SUCCESS"
              }
            ]
          },
          {
            "Name": "log-router",
            "Image": { "Fn::Sub": "\${AWS::AccountId}.dkr.ecr.\${AWS::Region}.\${AWS::URLSuffix}/fluent-bit:2" },
            "FirelensConfiguration": { "Type": "fluentbit", "Options": { "enable-ecs-log-metadata": "true" } }
          },
          {
            "Name": "metrics",
            "Image": { "Ref": "MetricsImage" }
          },
          {
            "Essential": false,
            "Name": "datacollector-sidecar",
            "Image": "lacework/datacollector:latest-sidecar",
            "MemoryReservation": 32
          }
        ]
      }
    }
  }
}
`

describe('rewriteTaskDefinition through PascalCaseView(PrefixedView(template))', () => {
  it('writes the PascalCase JSON an author would, leaving intrinsic functions and the user\'s map keys as they are', () => {
    const { json, view } = templateView(template)
    instrument(view, nonRootNginx, 'sidecar')
    expect(json.text).toBe(instrumentedTemplate)
  })

  it('changes nothing on a second application', () => {
    const { json, view } = templateView(instrumentedTemplate)
    // The second run looks up the image the first one wrote: the same user and command, its argv now wrapped.
    instrument(view, { ...nonRootNginx, reference: NEW_IMAGE }, 'sidecar')
    expect(json.text).toBe(instrumentedTemplate)
  })

  it('shows the planner ECS\'s shape: camelCase names, intrinsic functions as written', () => {
    const { view } = templateView(template)
    const definition = view.value as { containerDefinitions: Record<string, unknown>[] }
    expect(definition.containerDefinitions[0]).toEqual({
      name: 'web',
      image: 'nginx:1.27',
      environment: [
        { name: 'A', value: '1' },
        { name: 'STAGE', value: { Ref: 'Stage' } }
      ],
      dockerLabels: { 'com.example.team': 'payments', Tier: 'front' },
      logConfiguration: {
        logDriver: 'awslogs',
        options: { 'awslogs-group': { Ref: 'LogGroup' }, 'awslogs-region': { Ref: 'AWS::Region' }, Mode: 'non-blocking' }
      },
      linuxParameters: { initProcessEnabled: true }
    })
    expect(definition.containerDefinitions[1].image).toEqual({ 'Fn::Sub': '${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/fluent-bit:2' })
    expect(view.get(['containerDefinitions', 2, 'image'])).toEqual({ Ref: 'MetricsImage' })
  })
})

describe('rewriteTaskDefinition through ContainerArrayView (Terraform container_definitions)', () => {
  const containers = `[
  {
    "name": "web",
    "image": "nginx:1.27",
    "essential": true,
    "dockerLabels": { "com.example.team": "payments" },
    "environment": [{ "name": "A", "value": "1" }]
  }
]
`
  // A root image in sidecar mode, the token given as plain text: the agent script in front of the image's entrypoint.
  const instrumented = `[
  {
    "name": "web",
    "image": "${NEW_IMAGE}",
    "essential": true,
    "dockerLabels": { "com.example.team": "payments" },
    "environment": [{ "name": "A", "value": "1" }, { "name": "LaceworkAccessToken", "value": "0123456789abcdef" }, { "name": "LaceworkServerUrl", "value": "https://api.fra.lacework.net" }],
    "entryPoint": [
      "/var/lib/lacework-backup/lacework-sidecar.sh",
      "/docker-entrypoint.sh"
    ],
    "command": [
      "nginx",
      "-g",
      "daemon off;"
    ],
    "volumesFrom": [
      {
        "sourceContainer": "datacollector-sidecar",
        "readOnly": true
      }
    ],
    "dependsOn": [
      {
        "containerName": "datacollector-sidecar",
        "condition": "SUCCESS"
      }
    ]
  },
  {
    "essential": false,
    "name": "datacollector-sidecar",
    "image": "lacework/datacollector:latest-sidecar",
    "memoryReservation": 32
  }
]
`
  const root: ImageFacts = { ...nonRootNginx, user: 'root' }
  const plaintext = { kind: 'plaintext' as const, value: '0123456789abcdef' }

  it('edits the array in place, as ECS JSON', () => {
    const json = JsonDocument.parse('containers.json', containers)
    instrument(new ContainerArrayView(json), root, 'sidecar', plaintext)
    expect(json.text).toBe(instrumented)
  })

  it('changes nothing on a second application', () => {
    const json = JsonDocument.parse('containers.json', instrumented)
    instrument(new ContainerArrayView(json), { ...root, reference: NEW_IMAGE }, 'sidecar', plaintext)
    expect(json.text).toBe(instrumented)
  })

  it('reads as a task definition holding only containerDefinitions; other paths are missing and refuse edits', () => {
    const json = JsonDocument.parse('containers.json', containers)
    const view = new ContainerArrayView(json)
    expect(view.value).toEqual({ containerDefinitions: JSON.parse(containers) })
    expect(view.get([])).toEqual(view.value)
    expect(view.get(['containerDefinitions', 0, 'dockerLabels'])).toEqual({ 'com.example.team': 'payments' })
    expect(view.get(['family'])).toBeUndefined()
    expect(view.get(['runtimePlatform', 'cpuArchitecture'])).toBeUndefined()
    expect(() => view.set(['runtimePlatform', 'cpuArchitecture'], 'ARM64')).toThrow(TaskDefinitionError)
    expect(() => view.set(['runtimePlatform', 'cpuArchitecture'], 'ARM64')).toThrow(
      'containers.json:1:1: cannot set runtimePlatform.cpuArchitecture: a Terraform container_definitions file holds only the container definitions; ' +
        'set it on the aws_ecs_task_definition resource'
    )
    expect(() => view.append(['volumes'], { name: 'x' })).toThrow('cannot append to volumes:')
    expect(() => view.remove(['family'])).toThrow('cannot remove family:')
    expect(() => view.set([], {})).toThrow('cannot set the whole task definition:')
    expect(json.text).toBe(containers)
  })

  it('locates container paths in the file and anything else at its start', () => {
    const view = new ContainerArrayView(JsonDocument.parse('containers.json', containers))
    expect(view.locate(['containerDefinitions', 0, 'image'])).toEqual({ file: 'containers.json', line: 4, column: 5 })
    expect(view.locate(['family'])).toEqual({ file: 'containers.json', line: 1, column: 1 })
  })

  it('hands editEach a ContainerArrayView for the list itself and the container as the file has it', () => {
    const json = JsonDocument.parse('containers.json', containers)
    const seen: unknown[] = []
    new ContainerArrayView(json).editEach([['containerDefinitions'], ['family'], ['containerDefinitions', 0]], (part, index) => {
      seen.push([index, part instanceof ContainerArrayView, part.get(['name'])])
      if (index === 0) part.append(['containerDefinitions'], { name: 'b', image: 'b:1' })
    })
    // The path outside the list names nothing and is skipped, as a missing node is; indexes stay the caller's.
    expect(seen).toEqual([
      [2, false, 'web'],
      [0, true, undefined]
    ])
    expect((JSON.parse(json.text) as { name: string }[]).map(container => container.name)).toEqual(['web', 'b'])
  })
})

describe('PrefixedView', () => {
  const text = '{\n  "Resources": {\n    "TaskDef": {\n      "Properties": {\n        "Family": "web"\n      }\n    }\n  }\n}\n'

  it('reads and edits relative to its prefix, shows the whole text and locates in the whole file', () => {
    const json = JsonDocument.parse('t.json', text)
    const view = new PrefixedView(json, PROPERTIES)
    expect(view.value).toEqual({ Family: 'web' })
    expect(view.get(['Family'])).toBe('web')
    expect(view.locate(['Family'])).toEqual({ file: 't.json', line: 5, column: 9 })
    view.set(['Cpu'], '256')
    view.append(['Tags'], { Key: 'team', Value: 'a' })
    view.remove(['Family'])
    expect(view.text).toBe(json.text)
    expect(JSON.parse(json.text)).toEqual({ Resources: { TaskDef: { Properties: { Cpu: '256', Tags: [{ Key: 'team', Value: 'a' }] } } } })
  })

  it('hands editEach PrefixedViews of the parts', () => {
    const json = JsonDocument.parse('t.json', text)
    new PrefixedView(json, ['Resources', 'TaskDef']).editEach([['Properties']], (part, index) => {
      expect(part).toBeInstanceOf(PrefixedView)
      expect(index).toBe(0)
      part.set(['Family'], 'api')
    })
    expect(JSON.parse(json.text).Resources.TaskDef.Properties).toEqual({ Family: 'api' })
  })
})

describe('PascalCaseView names', () => {
  const empty = '{\n  "Resources": {\n    "TaskDef": {\n      "Type": "AWS::ECS::TaskDefinition",\n      "Properties": {}\n    }\n  }\n}\n'
  const properties = (json: JsonDocument): unknown => JSON.parse(json.text).Resources.TaskDef.Properties

  it('writes CloudFormation\'s own names where they are not the API\'s with a capital (EFS, FSx, IAM, proxy properties)', () => {
    const { json, view } = templateView(empty)
    view.set(['volumes'], [
      { name: 'efs', efsVolumeConfiguration: { fileSystemId: 'fs-1', authorizationConfig: { accessPointId: 'fsap-1', iam: 'ENABLED' } } },
      {
        name: 'fsx',
        fsxWindowsFileServerVolumeConfiguration: {
          fileSystemId: 'fs-2',
          rootDirectory: 'share',
          authorizationConfig: { credentialsParameter: 'arn:c', domain: 'example.com' }
        }
      }
    ])
    view.set(['proxyConfiguration'], { type: 'APPMESH', containerName: 'envoy', properties: [{ name: 'AppPorts', value: '80' }] })
    view.set(['volumes', 0, 'efsVolumeConfiguration', 'fileSystemId'], 'fs-3')
    expect(properties(json)).toEqual({
      Volumes: [
        { Name: 'efs', EFSVolumeConfiguration: { FilesystemId: 'fs-3', AuthorizationConfig: { AccessPointId: 'fsap-1', IAM: 'ENABLED' } } },
        {
          Name: 'fsx',
          FSxWindowsFileServerVolumeConfiguration: {
            FileSystemId: 'fs-2',
            RootDirectory: 'share',
            AuthorizationConfig: { CredentialsParameter: 'arn:c', Domain: 'example.com' }
          }
        }
      ],
      ProxyConfiguration: { Type: 'APPMESH', ContainerName: 'envoy', ProxyConfigurationProperties: [{ Name: 'AppPorts', Value: '80' }] }
    })
    expect(view.get(['volumes', 1, 'fsxWindowsFileServerVolumeConfiguration', 'fileSystemId'])).toBe('fs-2')
    expect(view.get(['proxyConfiguration', 'properties', 0])).toEqual({ name: 'AppPorts', value: '80' })
  })

  it('keeps the keys of the user\'s maps and intrinsic functions, in paths and in values, both ways', () => {
    const { json, view } = templateView(empty)
    view.set(['containerDefinitions'], [
      {
        name: 'web',
        image: { 'Fn::Sub': '${Repo}:latest' },
        dockerLabels: { team: 'a', Tier: 'b' },
        environment: [{ name: 'REGION', value: { Ref: 'AWS::Region' } }],
        logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': 'g', Mode: 'blocking' } }
      }
    ])
    view.set(['containerDefinitions', 0, 'dockerLabels', 'owner'], 'me')
    view.set(['containerDefinitions', 0, 'logConfiguration', 'options', 'max-buffer-size'], '4m')
    expect(properties(json)).toEqual({
      ContainerDefinitions: [
        {
          Name: 'web',
          Image: { 'Fn::Sub': '${Repo}:latest' },
          DockerLabels: { team: 'a', Tier: 'b', owner: 'me' },
          Environment: [{ Name: 'REGION', Value: { Ref: 'AWS::Region' } }],
          LogConfiguration: { LogDriver: 'awslogs', Options: { 'awslogs-group': 'g', Mode: 'blocking', 'max-buffer-size': '4m' } }
        }
      ]
    })
    expect(view.get(['containerDefinitions', 0, 'dockerLabels'])).toEqual({ team: 'a', Tier: 'b', owner: 'me' })
    expect(view.get(['containerDefinitions', 0, 'environment'])).toEqual([{ name: 'REGION', value: { Ref: 'AWS::Region' } }])
    expect(view.get(['containerDefinitions', 0, 'image', 'Fn::Sub'])).toBe('${Repo}:latest')
  })

  it('locates through the mapped path', () => {
    const { view } = templateView(template)
    expect(view.locate(['containerDefinitions', 0, 'dockerLabels', 'Tier'])).toEqual({ file: 'template.json', line: 22, column: 63 })
    expect(view.locate(['containerDefinitions', 1, 'image'])).toEqual({ file: 'template.json', line: 31, column: 13 })
  })

  it('hands editEach PascalCaseViews that know where their part sits', () => {
    const { json, view } = templateView(template)
    view.editEach([['containerDefinitions', 1, 'firelensConfiguration']], part => {
      expect(part).toBeInstanceOf(PascalCaseView)
      // Only a view that knows it is at firelensConfiguration can tell that `options` is the user's map.
      expect(part.value).toEqual({ type: 'fluentbit', options: { 'enable-ecs-log-metadata': 'true' } })
      part.set(['options', 'Config-File'], '/extra.conf')
      part.set(['options', 'retry_limit'], '2')
      part.set(['type'], 'fluentd')
    })
    expect(JSON.parse(json.text).Resources.TaskDef.Properties.ContainerDefinitions[1].FirelensConfiguration).toEqual({
      Type: 'fluentd',
      Options: { 'enable-ecs-log-metadata': 'true', 'Config-File': '/extra.conf', retry_limit: '2' }
    })
  })
})

/** Every member path the ECS model gives RegisterTaskDefinition, as `containerDefinitions[].linuxParameters.capabilities`. */
function memberPaths(model: ServiceModel, reference: Shape, path: string, out: { path: string; type: string }[]): void {
  const shape = reference.shape ? model.shapes[reference.shape] : reference
  if (shape.type === 'structure') {
    for (const [name, member] of Object.entries(shape.members ?? {})) {
      const child = path ? `${path}.${name}` : name
      const type = (member.shape ? model.shapes[member.shape] : member).type ?? ''
      out.push({ path: child, type })
      memberPaths(model, member, child, out)
    }
  } else if (shape.type === 'list' && shape.member) {
    memberPaths(model, shape.member, `${path}[]`, out)
  }
}

/** The values at a member path, through every element of the lists on the way. */
function valuesAt(value: unknown, path: string): unknown[] {
  let values = [value]
  for (const part of path.split('.')) {
    const [name, ...lists] = part.split('[]')
    values = values.map(item => (item as Record<string, unknown>)?.[name]).filter(item => item !== undefined)
    for (let i = 0; i < lists.length; i++) values = values.flatMap(item => (Array.isArray(item) ? item : []))
  }
  return values
}

describe('PascalCaseView against AWS\'s ECS model', () => {
  // Every property of AWS::ECS::TaskDefinition that the model (python3-botocore's, December 2022) knows, as an author
  // writes it in a template (AWS::ECS::TaskDefinition reference); each free-form map holds keys that either case
  // conversion would change.
  const everyProperty = {
    Family: 'web',
    TaskRoleArn: 'arn:aws:iam::123456789012:role/task',
    ExecutionRoleArn: 'arn:aws:iam::123456789012:role/execution',
    NetworkMode: 'awsvpc',
    ContainerDefinitions: [
      {
        Name: 'web',
        Image: 'nginx:1.27',
        RepositoryCredentials: { CredentialsParameter: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:registry' },
        Cpu: 256,
        Memory: 512,
        MemoryReservation: 256,
        Links: ['db'],
        PortMappings: [{ ContainerPort: 80, HostPort: 80, Protocol: 'tcp', Name: 'http', AppProtocol: 'http' }],
        Essential: true,
        EntryPoint: ['/docker-entrypoint.sh'],
        Command: ['nginx', '-g', 'daemon off;'],
        Environment: [{ Name: 'A', Value: '1' }],
        EnvironmentFiles: [{ Value: 'arn:aws:s3:::bucket/app.env', Type: 's3' }],
        MountPoints: [{ SourceVolume: 'data', ContainerPath: '/data', ReadOnly: false }],
        VolumesFrom: [{ SourceContainer: 'init', ReadOnly: true }],
        LinuxParameters: {
          Capabilities: { Add: ['SYS_PTRACE'], Drop: ['NET_RAW'] },
          Devices: [{ HostPath: '/dev/fuse', ContainerPath: '/dev/fuse', Permissions: ['read'] }],
          InitProcessEnabled: true,
          SharedMemorySize: 64,
          Tmpfs: [{ ContainerPath: '/scratch', Size: 64, MountOptions: ['rw'] }],
          MaxSwap: 0,
          Swappiness: 60
        },
        Secrets: [{ Name: 'DB_PASSWORD', ValueFrom: 'arn:aws:ssm:eu-central-1:123456789012:parameter/db' }],
        DependsOn: [{ ContainerName: 'init', Condition: 'SUCCESS' }],
        StartTimeout: 30,
        StopTimeout: 30,
        Hostname: 'web',
        User: 'nginx',
        WorkingDirectory: '/srv',
        DisableNetworking: false,
        Privileged: false,
        ReadonlyRootFilesystem: false,
        DnsServers: ['10.0.0.2'],
        DnsSearchDomains: ['example.internal'],
        ExtraHosts: [{ Hostname: 'db', IpAddress: '10.0.0.5' }],
        DockerSecurityOptions: ['no-new-privileges'],
        Interactive: false,
        PseudoTerminal: false,
        DockerLabels: { 'com.example.team': 'payments', Tier: 'front' },
        Ulimits: [{ Name: 'nofile', SoftLimit: 1024, HardLimit: 4096 }],
        LogConfiguration: {
          LogDriver: 'awslogs',
          Options: { 'awslogs-group': '/ecs/web', Mode: 'non-blocking' },
          SecretOptions: [{ Name: 'api-key', ValueFrom: 'arn:aws:ssm:eu-central-1:123456789012:parameter/key' }]
        },
        HealthCheck: { Command: ['CMD-SHELL', 'curl -f http://localhost/'], Interval: 30, Timeout: 5, Retries: 3, StartPeriod: 10 },
        SystemControls: [{ Namespace: 'net.core.somaxconn', Value: '1024' }],
        ResourceRequirements: [{ Value: '1', Type: 'GPU' }],
        FirelensConfiguration: { Type: 'fluentbit', Options: { 'enable-ecs-log-metadata': 'true', Config: 'file' } }
      }
    ],
    Volumes: [
      {
        Name: 'data',
        Host: { SourcePath: '/srv/data' },
        DockerVolumeConfiguration: {
          Scope: 'shared',
          Autoprovision: true,
          Driver: 'local',
          DriverOpts: { type: 'nfs', Device: ':/export' },
          Labels: { team: 'a', Owner: 'b' }
        }
      },
      {
        Name: 'efs',
        EFSVolumeConfiguration: {
          FilesystemId: 'fs-12345678',
          RootDirectory: '/',
          TransitEncryption: 'ENABLED',
          TransitEncryptionPort: 2049,
          AuthorizationConfig: { AccessPointId: 'fsap-12345678', IAM: 'ENABLED' }
        }
      },
      {
        Name: 'fsx',
        FSxWindowsFileServerVolumeConfiguration: {
          FileSystemId: 'fs-87654321',
          RootDirectory: 'share',
          AuthorizationConfig: { CredentialsParameter: 'arn:aws:ssm:eu-central-1:123456789012:parameter/fsx', Domain: 'example.com' }
        }
      }
    ],
    PlacementConstraints: [{ Type: 'memberOf', Expression: 'attribute:ecs.instance-type =~ t3.*' }],
    RequiresCompatibilities: ['FARGATE'],
    Cpu: '512',
    Memory: '1024',
    Tags: [{ Key: 'team', Value: 'payments' }],
    PidMode: 'task',
    IpcMode: 'task',
    ProxyConfiguration: { Type: 'APPMESH', ContainerName: 'envoy', ProxyConfigurationProperties: [{ Name: 'AppPorts', Value: '80' }] },
    InferenceAccelerators: [{ DeviceName: 'device', DeviceType: 'eia2.medium' }],
    EphemeralStorage: { SizeInGiB: 21 },
    RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' }
  }
  const text = JSON.stringify({ Resources: { TaskDef: { Type: 'AWS::ECS::TaskDefinition', Properties: everyProperty } } }, null, 2)
  const model = ecsModel()
  const members: { path: string; type: string }[] = []
  memberPaths(model, model.operations.RegisterTaskDefinition.input as Shape, '', members)

  it('reads a template using every member as a valid RegisterTaskDefinition request: no unknown or misspelt name', () => {
    const { view } = templateView(text)
    expect(formatErrors(validateRegisterTaskDefinition(view.value, model))).toBe('')
    // The fixture really does use every member the model has, so no name goes unchecked.
    const missing = members.filter(member => valuesAt(view.value, member.path).length === 0).map(member => member.path)
    expect(missing).toEqual([])
  })

  it('keeps the keys of exactly the model\'s map members as written', () => {
    const maps = members.filter(member => member.type === 'map').map(member => member.path)
    // Hand-written from the model's DockerLabelsMap, LogConfigurationOptionsMap, FirelensConfigurationOptionsMap, StringMap.
    const cloudFormationPaths: Record<string, string> = {
      'containerDefinitions[].dockerLabels': 'ContainerDefinitions[].DockerLabels',
      'containerDefinitions[].logConfiguration.options': 'ContainerDefinitions[].LogConfiguration.Options',
      'containerDefinitions[].firelensConfiguration.options': 'ContainerDefinitions[].FirelensConfiguration.Options',
      'volumes[].dockerVolumeConfiguration.driverOpts': 'Volumes[].DockerVolumeConfiguration.DriverOpts',
      'volumes[].dockerVolumeConfiguration.labels': 'Volumes[].DockerVolumeConfiguration.Labels'
    }
    expect(maps.sort()).toEqual(Object.keys(cloudFormationPaths).sort())
    const { json, view } = templateView(text)
    for (const map of maps) {
      const written = valuesAt(JSON.parse(json.text).Resources.TaskDef.Properties, cloudFormationPaths[map])
      expect(written).toHaveLength(1)
      expect(valuesAt(view.value, map)).toEqual(written)
    }
  })

  it('writes back exactly what it read: a re-write of the whole definition is no edit', () => {
    const { json, view } = templateView(text)
    const read = view.value
    view.set([], read)
    expect(json.text).toBe(text)
    const { json: fresh, view: empty } = templateView('{ "Resources": { "TaskDef": { "Properties": {} } } }')
    empty.set([], read)
    expect(JSON.parse(fresh.text).Resources.TaskDef.Properties).toEqual(everyProperty)
  })

  it('maps properties newer than that model by the same rule (AWS::ECS::TaskDefinition reference)', () => {
    const { view } = templateView(
      JSON.stringify({
        Resources: {
          TaskDef: {
            Properties: {
              EnableFaultInjection: true,
              Volumes: [{ Name: 'late', ConfiguredAtLaunch: true }],
              ContainerDefinitions: [
                {
                  Name: 'web',
                  CredentialSpecs: ['credentialspecdomainless:arn:aws:s3:::bucket/spec.json'],
                  PortMappings: [{ ContainerPortRange: '8000-8010', Protocol: 'tcp' }],
                  RestartPolicy: { Enabled: true, IgnoredExitCodes: [0], RestartAttemptPeriod: 60 }
                }
              ]
            }
          }
        }
      })
    )
    expect(view.value).toEqual({
      enableFaultInjection: true,
      volumes: [{ name: 'late', configuredAtLaunch: true }],
      containerDefinitions: [
        {
          name: 'web',
          credentialSpecs: ['credentialspecdomainless:arn:aws:s3:::bucket/spec.json'],
          portMappings: [{ containerPortRange: '8000-8010', protocol: 'tcp' }],
          restartPolicy: { enabled: true, ignoredExitCodes: [0], restartAttemptPeriod: 60 }
        }
      ]
    })
  })
})

describe('LocatedAt', () => {
  it('reports positions in the file it was unwrapped from, for its parts too', () => {
    const file = '{\n  "taskDefinition": {\n    "family": "web",\n    "containerDefinitions": [\n      { "name": "a" },\n      {\n        "name": "b"\n      }\n    ]\n  }\n}\n'
    const origin = JsonDocument.parse('describe.json', file)
    const unwrapped = JsonDocument.parse('describe.json', JSON.stringify(origin.get(['taskDefinition']), null, 2))
    const view = new LocatedAt(unwrapped, origin, ['taskDefinition'])
    expect(view.locate(['containerDefinitions', 1, 'name'])).toMatchObject({ line: 7 })
    const seen: number[] = []
    view.editEach([['containerDefinitions', 1]], part => seen.push(part.locate(['name']).line ?? 0))
    expect(seen).toEqual([7])
  })
})
