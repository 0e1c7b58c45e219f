import {
  isIntrinsicFunction,
  isTemplate,
  parseTemplateParameters,
  resolveImage,
  taskDefinitionResources,
  templateParameters,
  type ResolveContext
} from '../../../src/core/cloudformation.js'
import { InputError, TaskDefinitionError } from '../../../src/core/errors.js'
import { readSourceFile } from '../../../src/core/task-source.js'

const HASH = '7f2c1e0b9a8d4c6e5f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e'
const frankfurt: ResolveContext = { parameters: {}, accountId: '123456789012', region: 'eu-central-1' }

/** The shape `cdk synth` gives a ContainerImage.fromAsset task definition (bootstrap qualifier hnb659fds). */
const cdkTemplate = {
  Resources: {
    TaskDefTaskRole1EDB4A67: { Type: 'AWS::IAM::Role', Properties: {} },
    TaskDef54694570: {
      Type: 'AWS::ECS::TaskDefinition',
      Properties: {
        ContainerDefinitions: [
          {
            Essential: true,
            Image: {
              'Fn::Sub': `\${AWS::AccountId}.dkr.ecr.\${AWS::Region}.\${AWS::URLSuffix}/cdk-hnb659fds-container-assets-\${AWS::AccountId}-\${AWS::Region}:${HASH}`
            },
            Name: 'web'
          }
        ],
        Cpu: '256',
        Family: 'StackTaskDef',
        Memory: '512',
        NetworkMode: 'awsvpc',
        RequiresCompatibilities: ['FARGATE'],
        TaskRoleArn: { 'Fn::GetAtt': ['TaskDefTaskRole1EDB4A67', 'Arn'] }
      },
      Metadata: { 'aws:cdk:path': 'Stack/TaskDef/Resource' }
    }
  },
  Parameters: {
    BootstrapVersion: {
      Type: 'AWS::SSM::Parameter::Value<String>',
      Default: '/cdk-bootstrap/hnb659fds/version',
      Description: 'Version of the CDK Bootstrap resources in this environment, automatically retrieved from SSM Parameter Store. [cdk:skip]'
    }
  },
  Rules: { CheckBootstrapVersion: { Assertions: [] } }
}

describe('resolveImage', () => {
  const cdkImage = cdkTemplate.Resources.TaskDef54694570.Properties.ContainerDefinitions[0].Image

  it('resolves the image CDK synthesizes for an asset', () => {
    expect(resolveImage(cdkImage, frankfurt)).toEqual({
      image: `123456789012.dkr.ecr.eu-central-1.amazonaws.com/cdk-hnb659fds-container-assets-123456789012-eu-central-1:${HASH}`
    })
  })

  it('takes AWS::URLSuffix from the region (amazonaws.com.cn in China) unless it is given', () => {
    expect(resolveImage(cdkImage, { ...frankfurt, region: 'cn-north-1' })).toEqual({
      image: `123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/cdk-hnb659fds-container-assets-123456789012-cn-north-1:${HASH}`
    })
    expect(resolveImage({ Ref: 'AWS::URLSuffix' }, { parameters: {} })).toEqual({ image: 'amazonaws.com' })
    const given: ResolveContext = { parameters: {}, region: 'eu-central-1', urlSuffix: 'example.internal' }
    expect(resolveImage({ Ref: 'AWS::URLSuffix' }, given)).toEqual({ image: 'example.internal' })
  })

  it('names the account or region that is not known', () => {
    expect(resolveImage(cdkImage, { parameters: {}, region: 'eu-central-1' })).toEqual({ unresolved: 'AWS::AccountId' })
    expect(resolveImage(cdkImage, { parameters: {}, accountId: '123456789012' })).toEqual({ unresolved: 'AWS::Region' })
  })

  it('takes a string as it is', () => {
    expect(resolveImage('nginx:1.27', frankfurt)).toEqual({ image: 'nginx:1.27' })
    // Fn::Sub alone treats `${…}`; a plain string is never substituted.
    expect(resolveImage('repo/${Tag}', frankfurt)).toEqual({ image: 'repo/${Tag}' })
  })

  it('substitutes template parameters, AWS::Partition, AWS::StackName and the variables of the [string, map] form', () => {
    const context: ResolveContext = { ...frankfurt, parameters: { Tag: 'v1.2', Repo: 'from-parameters' }, stackName: 'web-prod' }
    expect(resolveImage({ 'Fn::Sub': 'registry.example.com/app:${Tag}' }, context)).toEqual({ image: 'registry.example.com/app:v1.2' })
    expect(resolveImage({ 'Fn::Sub': '${AWS::Partition}/${AWS::StackName}' }, context)).toEqual({ image: 'aws/web-prod' })
    expect(resolveImage({ 'Fn::Sub': '${AWS::Partition}' }, { ...context, region: 'cn-northwest-1' })).toEqual({ image: 'aws-cn' })
    expect(resolveImage({ 'Fn::Sub': '${AWS::Partition}' }, { ...context, region: 'us-gov-west-1' })).toEqual({ image: 'aws-us-gov' })
    // A variable of the map wins over a parameter of the same name; its value may be an intrinsic function itself.
    const registry = { 'Fn::Sub': '${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com' }
    expect(resolveImage({ 'Fn::Sub': ['${Registry}/${Repo}:${Tag}', { Registry: registry, Repo: 'app' }] }, context)).toEqual({
      image: '123456789012.dkr.ecr.eu-central-1.amazonaws.com/app:v1.2'
    })
    expect(resolveImage({ 'Fn::Sub': ['${Name}:${Tag}', { Name: { Ref: 'Repo' } }] }, context)).toEqual({ image: 'from-parameters:v1.2' })
  })

  it('writes ${!Literal} as ${Literal}', () => {
    expect(resolveImage({ 'Fn::Sub': 'app:${!Tag}-${Tag}' }, { parameters: { Tag: 'v1' } })).toEqual({ image: 'app:${Tag}-v1' })
  })

  it('resolves Ref to a parameter and to a pseudo parameter', () => {
    const pinned = 'nginx@sha256:' + 'a'.repeat(64)
    expect(resolveImage({ Ref: 'ImageUri' }, { parameters: { ImageUri: pinned } })).toEqual({ image: pinned })
    expect(resolveImage({ Ref: 'AWS::Region' }, frankfurt)).toEqual({ image: 'eu-central-1' })
  })

  it('joins resolvable parts, numbers as YAML reads them included', () => {
    const image = { 'Fn::Join': ['', [{ Ref: 'AWS::AccountId' }, '.dkr.ecr.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/app:', 1.5]] }
    expect(resolveImage(image, frankfurt)).toEqual({ image: '123456789012.dkr.ecr.eu-central-1.amazonaws.com/app:1.5' })
    expect(resolveImage({ 'Fn::Join': [':', { 'Fn::Split': ['|', 'app|v2'] }] }, frankfurt)).toEqual({ image: 'app:v2' })
  })

  it('selects from a split, a literal list (index as a string) and a CommaDelimitedList parameter', () => {
    // CDK's image for Repository.fromRepositoryName(this, 'Repo', 'app'): the registry's parts cut out of the ARN.
    const arn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecr:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':repository/app']] }
    const fromRepositoryName = {
      'Fn::Join': [
        '',
        [
          { 'Fn::Select': [4, { 'Fn::Split': [':', arn] }] },
          '.dkr.ecr.',
          { 'Fn::Select': [3, { 'Fn::Split': [':', arn] }] },
          '.',
          { Ref: 'AWS::URLSuffix' },
          '/app:latest'
        ]
      ]
    }
    expect(resolveImage(fromRepositoryName, frankfurt)).toEqual({ image: '123456789012.dkr.ecr.eu-central-1.amazonaws.com/app:latest' })
    // Only the item selected must resolve (AWS's example list, "1" → grapes).
    expect(resolveImage({ 'Fn::Select': ['1', ['apples', 'grapes', { 'Fn::GetAtt': ['Fruit', 'Name'] }]] }, frankfurt)).toEqual({ image: 'grapes' })
    expect(resolveImage({ 'Fn::Select': [{ Ref: 'Which' }, { Ref: 'Images' }] }, { parameters: { Which: '1', Images: 'nginx:1, nginx:2 ,nginx:3' } })).toEqual({
      image: 'nginx:2'
    })
  })

  it('names what cannot be known before the stack exists', () => {
    const cases: [unknown, string][] = [
      [{ 'Fn::GetAtt': ['Repo', 'RepositoryUri'] }, 'Fn::GetAtt Repo.RepositoryUri'],
      [{ 'Fn::GetAtt': 'Repo.RepositoryUri' }, 'Fn::GetAtt Repo.RepositoryUri'],
      [{ 'Fn::Sub': '${Repo.RepositoryUri}:latest' }, 'Repo.RepositoryUri'],
      [{ 'Fn::ImportValue': 'shared-repository-uri' }, 'Fn::ImportValue shared-repository-uri'],
      [{ 'Fn::Join': [':', [{ 'Fn::ImportValue': { 'Fn::Sub': '${Env}-repo' } }, 'latest']] }, 'Fn::ImportValue'],
      // A resource's Ref, or a parameter without Default nor value: only the name tells them apart here.
      [{ 'Fn::Sub': '${Repo}:latest' }, 'Repo'],
      [{ Ref: 'ImageTag' }, 'ImageTag'],
      [{ Ref: 'AWS::StackName' }, 'AWS::StackName'],
      [{ Ref: 'AWS::StackId' }, 'AWS::StackId'],
      [{ 'Fn::If': ['IsProd', 'app:prod', 'app:dev'] }, 'Fn::If'],
      [{ 'Fn::FindInMap': ['Images', { Ref: 'AWS::Region' }, 'Web'] }, 'Fn::FindInMap'],
      [{ 'Fn::Select': ['3', ['a', 'b']] }, 'Fn::Select index "3" outside a list of 2'],
      [{ 'Fn::Select': ['first', ['a', 'b']] }, 'Fn::Select index "first" outside a list of 2'],
      [{ 'Fn::Split': [':', 'a:b'] }, 'a list where an image string belongs'],
      [{ 'Fn::Join': [''] }, 'Fn::Join (malformed)'],
      // A dynamic reference is resolved by CloudFormation at deploy time, literal or substituted.
      ['{{resolve:ssm:/app/image}}', '{{resolve:ssm:/app/image}}'],
      [{ 'Fn::Sub': '{{resolve:ssm:/app/repository}}:${Tag}' }, '{{resolve:ssm:/app/repository}}'],
      [undefined, 'a missing value'],
      [{ Name: 'web' }, '{"Name":"web"}, not a string or intrinsic function']
    ]
    for (const [image, unresolved] of cases) {
      expect([image, resolveImage(image, { ...frankfurt, parameters: { Tag: 'v1' } })]).toEqual([image, { unresolved }])
    }
  })

  it('does not take names from the prototype of an object', () => {
    expect(resolveImage({ 'Fn::Sub': ['${toString}', {}] }, { parameters: {} })).toEqual({ unresolved: 'toString' })
    expect(resolveImage({ Ref: 'constructor' }, { parameters: {} })).toEqual({ unresolved: 'constructor' })
  })
})

describe('templates', () => {
  const sam = {
    AWSTemplateFormatVersion: '2010-09-09',
    Transform: 'AWS::Serverless-2016-10-31',
    Parameters: { Tag: { Type: 'String', Default: 'v1' }, Replicas: { Type: 'Number', Default: 2 } },
    Resources: {
      Api: { Type: 'AWS::Serverless::Function', Properties: { Handler: 'index.handler' } },
      Worker: { Type: 'AWS::ECS::TaskDefinition', Properties: { Family: 'worker', ContainerDefinitions: [{ Name: 'w', Image: 'worker:1' }] } },
      Service: { Type: 'AWS::ECS::Service', Properties: { TaskDefinition: { Ref: 'Worker' } } },
      Web: { Type: 'AWS::ECS::TaskDefinition', Properties: { Family: 'web', ContainerDefinitions: [{ Name: 'web', Image: { 'Fn::Sub': 'web:${Tag}' } }] } },
      Bare: { Type: 'AWS::ECS::TaskDefinition' }
    }
  }

  it('tells a template from a task definition', () => {
    expect(isTemplate(sam)).toBe(true)
    expect(isTemplate(cdkTemplate)).toBe(true)
    expect(isTemplate({ AWSTemplateFormatVersion: '2010-09-09' })).toBe(true)
    expect(isTemplate({ Transform: 'AWS::Serverless-2016-10-31' })).toBe(true)
    expect(isTemplate({ Transform: ['AWS::LanguageExtensions', 'AWS::Serverless-2016-10-31'] })).toBe(true)
    expect(isTemplate({ Transform: 'AWS::Include' })).toBe(false)
    expect(isTemplate({ family: 'web', containerDefinitions: [{ name: 'web', image: 'nginx' }] })).toBe(false)
    expect(isTemplate([{ name: 'web', image: 'nginx' }])).toBe(false)
    expect(isTemplate(null)).toBe(false)
  })

  it('lists every AWS::ECS::TaskDefinition in template order', () => {
    expect(taskDefinitionResources(sam)).toEqual([
      { id: 'Worker', properties: sam.Resources.Worker.Properties },
      { id: 'Web', properties: sam.Resources.Web.Properties },
      { id: 'Bare', properties: {} }
    ])
    expect(taskDefinitionResources(cdkTemplate).map(resource => resource.id)).toEqual(['TaskDef54694570'])
    expect(taskDefinitionResources({ family: 'web' })).toEqual([])
  })

  it('gives the parameters\' Defaults, overridden by the values given', () => {
    expect(templateParameters(sam, {})).toEqual({ Tag: 'v1', Replicas: '2' })
    expect(templateParameters(sam, { Tag: 'v2', Extra: 'x' })).toEqual({ Tag: 'v2', Replicas: '2', Extra: 'x' })
    // The Default of an SSM parameter type names the SSM parameter; Ref gives its value, unknown here.
    expect(templateParameters(cdkTemplate, {})).toEqual({})
    expect(templateParameters({ Parameters: { Images: { Type: 'CommaDelimitedList', Default: ['a', 'b'] } } }, {})).toEqual({ Images: 'a,b' })
    const web = taskDefinitionResources(sam)[1].properties as { ContainerDefinitions: { Image: unknown }[] }
    expect(resolveImage(web.ContainerDefinitions[0].Image, { parameters: templateParameters(sam, {}) })).toEqual({ image: 'web:v1' })
  })

  it('knows an intrinsic function by its one key', () => {
    expect(isIntrinsicFunction({ Ref: 'X' })).toBe(true)
    expect(isIntrinsicFunction({ 'Fn::Sub': 'x' })).toBe(true)
    expect(isIntrinsicFunction({ Condition: 'IsProd' })).toBe(true)
    expect(isIntrinsicFunction({ Ref: 'X', Other: 1 })).toBe(false)
    expect(isIntrinsicFunction({ Name: 'A' })).toBe(false)
    expect(isIntrinsicFunction(['Ref'])).toBe(false)
  })
})

describe('parseTemplateParameters', () => {
  it('reads Name=value lines, skipping blank ones; a value keeps any further =', () => {
    const input = 'ImageTag=v1.2.3\r\n\n  Env = prod  \nQuery=a=b\nEmpty=\n'
    expect(parseTemplateParameters(input)).toEqual({ ImageTag: 'v1.2.3', Env: 'prod', Query: 'a=b', Empty: '' })
    expect(parseTemplateParameters('')).toEqual({})
  })

  it('rejects a line without =, naming the input and the line', () => {
    let error: unknown
    try {
      parseTemplateParameters('ImageTag=v1\nEnvironment prod')
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(InputError)
    expect((error as InputError).input).toBe('template-parameters')
    expect((error as Error).message).toBe('input template-parameters: line 2 "Environment prod" is not Name=value')
  })

  it('rejects a name CloudFormation cannot have, and a name given twice', () => {
    expect(() => parseTemplateParameters('Image-Tag=v1')).toThrow(
      'input template-parameters: line 1 "Image-Tag=v1": a parameter name is letters and digits only'
    )
    expect(() => parseTemplateParameters('=v1')).toThrow(InputError)
    expect(() => parseTemplateParameters('Tag=v1\nTag=v2')).toThrow('input template-parameters: line 2 "Tag=v2": Tag is given twice')
    expect(() => parseTemplateParameters('GCP::Project=x')).toThrow('a parameter name is letters and digits only, or a pseudo parameter such as AWS::AccountId')
  })

  it('takes the pseudo parameters a CDK asset image is built from', () => {
    expect(parseTemplateParameters('AWS::AccountId=123456789012\nAWS::Region=eu-central-1\nAWS::URLSuffix=amazonaws.com')).toEqual({
      'AWS::AccountId': '123456789012',
      'AWS::Region': 'eu-central-1',
      'AWS::URLSuffix': 'amazonaws.com'
    })
  })
})

describe('a task definition resource without Properties', () => {
  it('is refused at the resource like any task without containers, not with a crash', () => {
    for (const text of ['Resources:\n  Task:\n    Type: AWS::ECS::TaskDefinition\n', 'Resources:\n  Task:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n']) {
      expect(() => readSourceFile('stack.yaml', text)).toThrow(TaskDefinitionError)
      expect(() => readSourceFile('stack.yaml', text)).toThrow('containerDefinitions must be a non-empty array')
    }
  })
})
