import fc from 'fast-check'
import { parse as parseYamlLibrary, parseDocument } from 'yaml'
import { SERVER_URL_VARIABLE, TOKEN_VARIABLE } from '../../../src/core/agent.js'
import { planContainer } from '../../../src/core/container-plan.js'
import type { ImageFacts } from '../../../src/core/image-facts.js'
import { JsonDocument } from '../../../src/core/json-document.js'
import type { NonRootStrategy, Placement } from '../../../src/core/pattern.js'
import { rewriteTaskDefinition, type AgentSettings, type ContainerChange, type TokenSource } from '../../../src/core/rewrite.js'
import type { ContainerDefinition } from '../../../src/core/task-definition.js'
import { TaskDefinitionError } from '../../../src/core/errors.js'
import { YamlDocument } from '../../../src/core/yaml-document.js'

// The reference reader for every check: the yaml library's own parse, independent of YamlDocument's walk.
function read(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true })
  if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors[0].message}\n${text}`)
  return doc.toJS()
}

function edit(text: string, change: (doc: YamlDocument) => void): string {
  const doc = YamlDocument.parse('f.yaml', text)
  change(doc)
  // Every edit leaves one valid document, which YamlDocument itself reads back as the reference reader does.
  expect(YamlDocument.parse('f.yaml', doc.text).value).toEqual(read(doc.text))
  return doc.text
}

function failure(run: () => unknown): Error {
  try {
    run()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected an error')
}

describe('YamlDocument edits only what changes (the JsonDocument cases, in YAML)', () => {
  const inline = 'env: [{ name: A, value: "1" }, { name: T, value: x }]\nx: { a: 1 }\n'

  it('removes the last element of a flow list with its comma', () => {
    expect(edit(inline, doc => doc.remove(['env', 1]))).toBe('env: [{ name: A, value: "1" }]\nx: { a: 1 }\n')
  })
  it('removes the first element and the only element', () => {
    expect(edit(inline, doc => doc.remove(['env', 0]))).toBe('env: [{ name: T, value: x }]\nx: { a: 1 }\n')
    expect(edit('a: [1]', doc => doc.remove(['a', 0]))).toBe('a: []')
  })
  it('appends inline to a flow list and on a new line to a block one', () => {
    expect(edit(inline, doc => doc.append(['env'], { name: 'U', value: '2' }))).toBe(
      'env: [{ name: A, value: "1" }, { name: T, value: x }, { name: U, value: "2" }]\nx: { a: 1 }\n'
    )
    expect(edit('a:\n    - 1\n', doc => doc.append(['a'], { b: 2, c: [3] }))).toBe('a:\n    - 1\n    - b: 2\n      c:\n          - 3\n')
  })
  it('creates missing ancestors, indented like the file', () => {
    expect(edit('name: web\nlogConfiguration:\n    logDriver: awslogs\n', doc => doc.append(['linuxParameters', 'capabilities', 'add'], 'SYS_PTRACE'))).toBe(
      'name: web\nlogConfiguration:\n    logDriver: awslogs\nlinuxParameters:\n    capabilities:\n        add:\n            - SYS_PTRACE\n'
    )
  })
  it('fills an empty map, in block style where the map stands in block context', () => {
    expect(edit('c: {}\n', doc => doc.set(['c', 'k'], 'v'))).toBe('c:\n  k: v\n')
    expect(edit('c: [{}]\n', doc => doc.set(['c', 0, 'k'], 'v'))).toBe('c: [{ k: v }]\n')
  })
  it('leaves the text alone when the value is already there, whatever its key order', () => {
    const text = 'v: {readOnly: true, sourceContainer: s}\n'
    expect(edit(text, doc => doc.set(['v'], { sourceContainer: 's', readOnly: true }))).toBe(text)
    const block = 'v:\n  # why\n  readOnly: true\n  sourceContainer: "s"\n'
    expect(edit(block, doc => doc.set(['v'], { sourceContainer: 's', readOnly: true }))).toBe(block)
  })
  it('locates a node for annotations (a map value at its key), or its nearest ancestor', () => {
    const doc = YamlDocument.parse('f.yaml', 'containerDefinitions:\n  - name: web\n    image: x\n')
    expect(doc.locate(['containerDefinitions', 0])).toEqual({ file: 'f.yaml', line: 2, column: 5 })
    expect(doc.locate(['containerDefinitions', 0, 'image'])).toEqual({ file: 'f.yaml', line: 3, column: 5 })
    expect(doc.locate(['containerDefinitions', 0, 'missing', 'deeper'])).toEqual({ file: 'f.yaml', line: 2, column: 5 })
    expect(doc.locate(['containerDefinitions'])).toEqual({ file: 'f.yaml', line: 1, column: 1 })
    expect(doc.locate([])).toEqual({ file: 'f.yaml', line: 1, column: 1 })
  })
})

describe('YamlDocument keeps the layout of the file', () => {
  const task = [
    '# The web service',
    'family: web   # family comment',
    'containerDefinitions:',
    '  # the app',
    '  - name: web',
    "    image: 'web:1'  # pinned by CI",
    '    command: [nginx, -g, "daemon off;"]',
    '    environment:',
    '      - name: A',
    '        value: "1"',
    '      # the token, for now',
    '      - name: LaceworkAccessToken',
    '        value: old-token',
    '      # between items',
    '      - {name: B, value: "2"}',
    '    essential: ~',
    '    user:',
    '    secrets: null',
    ''
  ].join('\n')
  const comments = task.split('\n').filter(line => line.trim().startsWith('#'))

  const cases: [string, (doc: YamlDocument) => void, string[]][] = [
    ['set a scalar (trailing comment stays)', doc => doc.set(['containerDefinitions', 0, 'image'], 'repo/web@sha256:1'), ["    image: 'repo/web@sha256:1'  # pinned by CI"]],
    ['set a flow list', doc => doc.set(['containerDefinitions', 0, 'command'], ['nginx', '-g', 'daemon off; worker 1']), ['    command: [nginx, -g, "daemon off; worker 1"]']],
    ['remove an item between comments', doc => doc.remove(['containerDefinitions', 0, 'environment', 1]), ['      - name: A', '        value: "1"', '      # the token, for now', '      # between items']],
    ['remove the first item', doc => doc.remove(['containerDefinitions', 0, 'environment', 0]), ['    environment:', '      # the token, for now', '      - name: LaceworkAccessToken']],
    ['remove a flow item', doc => doc.remove(['containerDefinitions', 0, 'environment', 2]), ['        value: old-token', '      # between items', '    essential: ~']],
    ['append after the last item', doc => doc.append(['containerDefinitions', 0, 'environment'], { name: 'C', value: 'x y' }), ['      - {name: B, value: "2"}', '      - name: C', '        value: x y', '    essential: ~']],
    ['replace ~ in place', doc => doc.set(['containerDefinitions', 0, 'essential'], true), ['    essential: true']],
    ['replace an empty value in place', doc => doc.set(['containerDefinitions', 0, 'user'], 'root'), ['    user: root']],
    ['replace null with a block list', doc => doc.append(['containerDefinitions', 0, 'secrets'], { name: 'T', valueFrom: 'arn:aws:ssm:x' }), ['    secrets:', '      - name: T', '        valueFrom: arn:aws:ssm:x']],
    ['set a missing key', doc => doc.set(['containerDefinitions', 0, 'entryPoint'], ['/bin/sh', '-c', 'exec "$@"']), ['    secrets: null', '    entryPoint:', '      - /bin/sh', '      - -c', '      - exec "$@"']],
    ['append a container', doc => doc.append(['containerDefinitions'], { essential: false, name: 'side', image: 'a:1' }), ['    secrets: null', '  - essential: false', '    name: side', '    image: a:1']],
    ['set a pair of a flow map', doc => doc.set(['containerDefinitions', 0, 'environment', 2, 'value'], '3'), ['      - {name: B, value: "3"}']]
  ]
  it.each(cases)('%s: the rest byte-identical, every comment kept', (_name, change, expected) => {
    const out = edit(task, change)
    for (const line of expected) expect(out.split('\n')).toContain(line)
    for (const line of comments) expect(out.split('\n')).toContain(line)
    // Everything outside the edited lines is as it was: the diff is only the lines listed.
    const before = task.split('\n')
    const after = out.split('\n')
    expect(after.filter(line => !before.includes(line)).every(line => expected.includes(line))).toBe(true)
  })

  it('quotes a string only where YAML needs it, the way the file mostly quotes', () => {
    const single = "a: 'x'\nb: 'y'\nc: \"z\"\n"
    const out = edit(single, doc => {
      doc.set(['d'], 'true')
      doc.set(['e'], '256')
      doc.set(['f'], 'plain text')
      doc.set(['g'], "it's # here")
      doc.set(['h'], 'line\nbreak')
      doc.set(['i'], '')
      doc.set(['j'], '- x')
    })
    expect(out).toBe(`${single}d: 'true'\ne: '256'\nf: plain text\ng: 'it''s # here'\nh: "line\\nbreak"\ni: ''\nj: '- x'\n`)
    expect(edit('a: "x"\n', doc => doc.set(['b'], 'a: b'))).toBe('a: "x"\nb: "a: b"\n')
    // In a flow collection, flow indicators need quotes too.
    expect(edit('a: [x]\n', doc => doc.append(['a'], 'y,z'))).toBe('a: [x, "y,z"]\n')
  })

  it('keeps 2-space, 4-space and flush list styles', () => {
    expect(edit('a:\n  b: 1\nlist:\n- x\n', doc => doc.set(['c'], { d: ['e'], f: { g: 1 } }))).toBe('a:\n  b: 1\nlist:\n- x\nc:\n  d:\n  - e\n  f:\n    g: 1\n')
    expect(edit('a:\n    b: 1\nlist:\n    - x\n', doc => doc.set(['c'], { d: ['e'] }))).toBe('a:\n    b: 1\nlist:\n    - x\nc:\n    d:\n        - e\n')
    // The siblings decide: this map writes its lists flush although the file's other list is indented.
    expect(edit('x:\n  - 1\ny:\n  l:\n  - a\n  m: 1\n', doc => doc.set(['y', 'n'], ['b']))).toBe('x:\n  - 1\ny:\n  l:\n  - a\n  m: 1\n  n:\n  - b\n')
  })

  it('keeps CRLF line breaks and a missing final newline', () => {
    const crlf = 'a:\r\n  - x\r\nb: 1\r\n'
    const out = edit(crlf, doc => {
      doc.append(['a'], { n: 1, m: [1, 2] })
      doc.set(['c'], { d: 'e' })
      doc.remove(['b'])
    })
    expect(out).toBe('a:\r\n  - x\r\n  - n: 1\r\n    m:\r\n      - 1\r\n      - 2\r\nc:\r\n  d: e\r\n')
    expect(edit('a: 1\nb: 2', doc => doc.set(['c'], 3))).toBe('a: 1\nb: 2\nc: 3')
    expect(edit('a: 1\nb: 2', doc => doc.remove(['b']))).toBe('a: 1')
    expect(edit('a:\n  - 1\n  - 2', doc => doc.append(['a'], 3))).toBe('a:\n  - 1\n  - 2\n  - 3')
  })

  it('removes the last pair or item as an empty collection (not null), keeping comment lines', () => {
    expect(edit('a:\n  # only\n  - x\nb: 1\n', doc => doc.remove(['a', 0]))).toBe('a: []\n  # only\nb: 1\n')
    expect(edit('a:\n  k: v  # c\nb: 1\n', doc => doc.remove(['a', 'k']))).toBe('a: {}\nb: 1\n')
    expect(edit('- name: x\n  # about value\n  value: y\n', doc => doc.remove([0, 'name']))).toBe('  # about value\n- value: y\n')
  })

  it('sets a list item by item: the head and tail that stay are untouched', () => {
    const text = 'entryPoint:\n  # the image entrypoint\n  - /docker-entrypoint.sh  # from the image\n'
    expect(edit(text, doc => doc.set(['entryPoint'], ['/agent.sh', '/docker-entrypoint.sh']))).toBe(
      'entryPoint:\n  - /agent.sh\n  # the image entrypoint\n  - /docker-entrypoint.sh  # from the image\n'
    )
    expect(edit('c: [a, b, c]\n', doc => doc.set(['c'], ['a', 'c']))).toBe('c: [a, c]\n')
  })

  it('reads a document the reference reader reads alike (scalars, nulls, block scalars, merges)', () => {
    const text = 'a: ~\nb:\nc: null\nd: 0x1F\ne: .inf\nf: |\n  two\n  lines\ng: >-\n  folded\n  text\nh: "\\u00e9"\nbase: &b { x: 1, y: 2 }\nm:\n  <<: *b\n  y: 3\nn: *b\n'
    const doc = YamlDocument.parse('f.yaml', text)
    expect(doc.value).toEqual({ ...(parseYamlLibrary(text, { merge: true }) as object) })
    expect(doc.get(['m'])).toEqual({ x: 1, y: 3 })
    expect(doc.get(['a'])).toBeNull()
    expect(doc.get(['b'])).toBeNull()
  })
})

describe('YamlDocument.editEach', () => {
  const text = '# two containers\ncontainerDefinitions:\n  - name: a  # first\n    image: a:1\n  - name: b\n    image: b:1\n    # b runs as nobody\n    user: nobody\n'

  it('gives each node as a document of its own, whose edits and positions are the file\'s', () => {
    const doc = YamlDocument.parse('f.yaml', text)
    const seen: unknown[] = []
    doc.editEach([['containerDefinitions', 0], ['containerDefinitions', 1]], (part, index) => {
      seen[index] = part.value
      expect(part.locate(['image'])).toEqual({ file: 'f.yaml', line: index === 0 ? 4 : 6, column: 5 })
      part.set(['image'], `${part.get(['name'])}:2`)
      part.remove(['user'])
      part.append(['command'], 'run')
    })
    expect(seen).toEqual([
      { name: 'a', image: 'a:1' },
      { name: 'b', image: 'b:1', user: 'nobody' }
    ])
    expect(doc.text).toBe(
      '# two containers\ncontainerDefinitions:\n  - name: a  # first\n    image: a:2\n    command:\n      - run\n  - name: b\n    image: b:2\n    command:\n      - run\n    # b runs as nobody\n'
    )
  })

  it('edits through the document itself where a part cannot be cut out (anchors and aliases in the file)', () => {
    const anchored = 'x-logging: &logging\n  logDriver: awslogs\ncontainerDefinitions:\n  - name: a\n    image: a:1\n    logConfiguration: *logging\n'
    const doc = YamlDocument.parse('f.yaml', anchored)
    doc.editEach([['containerDefinitions', 0]], part => {
      expect(part.get(['logConfiguration'])).toEqual({ logDriver: 'awslogs' })
      expect(part.locate(['image'])).toEqual({ file: 'f.yaml', line: 5, column: 5 })
      part.set(['image'], 'a:2')
      part.set(['user'], 'root')
      expect(() => part.set(['logConfiguration', 'logDriver'], 'splunk')).toThrow(/containerDefinitions\[0\]\.logConfiguration\.logDriver: the path goes through alias \*logging/)
    })
    expect(doc.text).toBe(anchored.replace('a:1', 'a:2') + '    user: root\n')
  })
})

describe('YamlDocument at the edges of a document', () => {
  it('writes into an empty document or one with only comments', () => {
    expect(edit('', doc => doc.set(['b', 'c'], [1]))).toBe('b:\n  c:\n    - 1\n')
    expect(edit('# only a comment', doc => doc.set(['b'], 2))).toBe('# only a comment\nb: 2\n')
  })
  it('keeps directives, document markers and a comment after the last pair', () => {
    const text = '%YAML 1.2\n---\nfamily: x\n# the end\n...\n'
    expect(edit(text, doc => doc.set(['cpu'], '256'))).toBe('%YAML 1.2\n---\nfamily: x\ncpu: "256"\n# the end\n...\n')
  })
  it('replaces a block scalar, and inserts after one without touching its lines', () => {
    expect(edit('a:\n  v: |\n    line1\n    line2\n  w: 1\n', doc => doc.set(['a', 'v'], 'one'))).toBe('a:\n  v: one\n  w: 1\n')
    expect(edit('a:\n  v: |\n    line1\n', doc => doc.set(['a', 'x'], 'two'))).toBe('a:\n  v: |\n    line1\n  x: two\n')
  })
})

describe('YamlDocument reads CloudFormation short forms as their long forms and keeps them as written', () => {
  const template = [
    'Resources:',
    '  Task:',
    '    Type: AWS::ECS::TaskDefinition',
    '    Properties:',
    '      Family: !Sub "${AWS::StackName}-web"',
    '      ExecutionRoleArn: !GetAtt ExecRole.Arn',
    '      ContainerDefinitions:',
    '        - Name: web',
    '          Image: !Join [":", [!Ref Repo, !Select [0, !Split [",", !Ref Tags]]]]',
    '          Environment:',
    '            - Name: ZONE',
    "              Value: !Select [0, !GetAZs '']",
    '            - Name: DB',
    '              Value: !ImportValue db-endpoint',
    '            - Name: SUB',
    '              Value: !Sub',
    '                - "${Host}:${Port}"',
    '                - { Host: !GetAtt Db.Endpoint.Address, Port: "5432" }',
    '          Memory: !If [Big, 2048, !Ref "AWS::NoValue"]',
    '          Cidr: !Cidr [!GetAtt Vpc.CidrBlock, 6, 5]',
    '          UserData: !Base64 "#!/bin/sh"',
    '          Lookup: !FindInMap [Images, !Ref "AWS::Region", web]',
    '          Custom: !Other 42',
    'Conditions:',
    '  Big: !And [!Equals [!Ref Size, big], !Not [!Condition Small]]',
    '  Any: !Or [!Condition Big, !Condition Small]',
    ''
  ].join('\n')

  it('reads each short form as CloudFormation defines its long form', () => {
    const value = YamlDocument.parse('t.yaml', template).value as Record<string, Record<string, Record<string, unknown>>>
    const props = value.Resources.Task.Properties as Record<string, unknown>
    expect(props.Family).toEqual({ 'Fn::Sub': '${AWS::StackName}-web' })
    expect(props.ExecutionRoleArn).toEqual({ 'Fn::GetAtt': ['ExecRole', 'Arn'] })
    const web = (props.ContainerDefinitions as Record<string, unknown>[])[0]
    expect(web.Image).toEqual({ 'Fn::Join': [':', [{ Ref: 'Repo' }, { 'Fn::Select': [0, { 'Fn::Split': [',', { Ref: 'Tags' }] }] }]] })
    expect(web.Environment).toEqual([
      { Name: 'ZONE', Value: { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] } },
      { Name: 'DB', Value: { 'Fn::ImportValue': 'db-endpoint' } },
      { Name: 'SUB', Value: { 'Fn::Sub': ['${Host}:${Port}', { Host: { 'Fn::GetAtt': ['Db', 'Endpoint.Address'] }, Port: '5432' }] } }
    ])
    expect(web.Memory).toEqual({ 'Fn::If': ['Big', 2048, { Ref: 'AWS::NoValue' }] })
    expect(web.Cidr).toEqual({ 'Fn::Cidr': [{ 'Fn::GetAtt': ['Vpc', 'CidrBlock'] }, 6, 5] })
    expect(web.UserData).toEqual({ 'Fn::Base64': '#!/bin/sh' })
    expect(web.Lookup).toEqual({ 'Fn::FindInMap': ['Images', { Ref: 'AWS::Region' }, 'web'] })
    // A tag CloudFormation does not define: the value without it.
    expect(web.Custom).toBe(42)
    expect(value.Conditions).toEqual({
      Big: { 'Fn::And': [{ 'Fn::Equals': [{ Ref: 'Size' }, 'big'] }, { 'Fn::Not': [{ Condition: 'Small' }] }] },
      Any: { 'Fn::Or': [{ Condition: 'Big' }, { Condition: 'Small' }] }
    })
  })

  it('leaves every tag and its text alone when other nodes are edited', () => {
    const doc = YamlDocument.parse('t.yaml', template)
    const web = ['Resources', 'Task', 'Properties', 'ContainerDefinitions', 0]
    const expected = structuredClone(doc.get(web)) as Record<string, unknown>
    doc.set([...web, 'EntryPoint'], ['/agent.sh', 'nginx'])
    doc.append([...web, 'Environment'], { Name: 'LaceworkServerUrl', Value: 'https://api.fra.lacework.net' })
    doc.append([...web, 'LinuxParameters', 'Capabilities', 'Add'], 'SYS_PTRACE')
    doc.remove([...web, 'Environment', 1])
    const out = doc.text
    const environment = expected.Environment as unknown[]
    Object.assign(expected, {
      EntryPoint: ['/agent.sh', 'nginx'],
      Environment: [environment[0], environment[2], { Name: 'LaceworkServerUrl', Value: 'https://api.fra.lacework.net' }],
      LinuxParameters: { Capabilities: { Add: ['SYS_PTRACE'] } }
    })
    expect(YamlDocument.parse('t.yaml', out).get(web)).toEqual(expected)
    const kept = template.split('\n').filter(line => !line.includes('db-endpoint') && !line.includes('Name: DB'))
    for (const line of kept) expect(out.split('\n')).toContain(line)
    expect(out).toContain('            - Name: LaceworkServerUrl\n              Value: https://api.fra.lacework.net\n')
  })

  it('survive untouched when rewriteTaskDefinition edits the container around them', () => {
    const text = [
      'family: !Sub "${AWS::StackName}-web"',
      'executionRoleArn: !GetAtt ExecRole.Arn',
      'containerDefinitions:',
      '  - name: web',
      '    image: !Sub "${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/web:1"',
      '    environment:',
      '      - name: REGION',
      '        value: !Ref AWS::Region',
      '    logConfiguration:',
      '      logDriver: awslogs',
      '      options:',
      '        awslogs-group: !ImportValue log-group',
      '        awslogs-region: !Ref "AWS::Region"',
      ''
    ].join('\n')
    const yamlDoc = YamlDocument.parse('task.yaml', text)
    const jsonDoc = JsonDocument.parse('task.json', JSON.stringify(yamlDoc.value, null, 2))
    const definition = yamlDoc.value as { containerDefinitions: ContainerDefinition[] }
    expect(definition.containerDefinitions[0].image).toEqual({ 'Fn::Sub': '${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/web:1' })
    const plan = planContainer(definition.containerDefinitions[0], IMAGE_FACTS('root')('web:1'), { mode: 'sidecar', nonRootStrategy: 'sudo' })
    const changes: ContainerChange[] = [{ index: 0, plan }]
    for (const doc of [yamlDoc, jsonDoc]) rewriteTaskDefinition(doc, changes, settingsFor(TOKENS[0]))
    expect(yamlDoc.value).toEqual(JSON.parse(jsonDoc.text))
    for (const line of text.split('\n').filter(item => item.includes('!'))) expect(yamlDoc.text.split('\n')).toContain(line)
    const again = YamlDocument.parse('task.yaml', yamlDoc.text)
    rewriteTaskDefinition(again, changes, settingsFor(TOKENS[0]))
    expect(again.text).toBe(yamlDoc.text)
  })

  it('replaces a tagged value whole when it is set to another value', () => {
    expect(edit('Image: !Sub "${Repo}:1"  # from the stack\n', doc => doc.set(['Image'], 'repo@sha256:1'))).toBe('Image: repo@sha256:1  # from the stack\n')
  })
})

describe('YamlDocument reports what it cannot read or edit', () => {
  const cases: [string, string, string, number, number][] = [
    ['malformed YAML', 'a: [1, 2\nb: 3\n', 'malformed YAML: Flow sequence in block collection must be sufficiently indented and end with a ]', 2, 1],
    ['a tab as indentation', 'a:\n\t- b\n', 'malformed YAML: Tabs are not allowed as indentation', 2, 1],
    ['a duplicate key', 'a: 1\nb:\n  c: 1\n  "c": 2\n', 'duplicate key "c" in one mapping', 4, 3],
    ['a second document', 'a: 1\n---\nb: 2\n', 'a second YAML document starts here; a task definition file holds one', 2, 1],
    ['an alias without anchor', 'a: *nowhere\n', 'alias *nowhere refers to no anchor before it', 1, 4]
  ]
  it.each(cases)('%s: a TaskDefinitionError at its line and column', (_name, text, message, line, column) => {
    const error = failure(() => YamlDocument.parse('deploy/task.yaml', text))
    expect(error).toBeInstanceOf(TaskDefinitionError)
    expect(error.message).toBe(`deploy/task.yaml:${line}:${column}: ${message}`)
    expect((error as TaskDefinitionError).location).toEqual({ file: 'deploy/task.yaml', line, column })
  })

  it('refuses an edit through an alias, naming the path, and never changes the anchored node', () => {
    const text = 'defaults: &env\n  - name: A\n    value: "1"\ncontainerDefinitions:\n  - name: web\n    environment: *env\n'
    const doc = YamlDocument.parse('f.yaml', text)
    expect(doc.get(['containerDefinitions', 0, 'environment', 0, 'value'])).toBe('1')
    const through = failure(() => doc.append(['containerDefinitions', 0, 'environment'], { name: 'B', value: '2' }))
    expect(through.message).toMatch(/cannot edit containerDefinitions\[0\]\.environment: the path goes through alias \*env/)
    expect(failure(() => doc.set(['containerDefinitions', 0, 'environment', 0, 'value'], '2')).message).toMatch(/containerDefinitions\[0\]\.environment\[0\]\.value/)
    expect(failure(() => doc.set(['defaults', 0, 'value'], '2')).message).toMatch(/cannot edit defaults\[0\]\.value: it is inside &env/)
    expect(doc.text).toBe(text)
    // Setting the alias itself to a value of its own leaves the anchored node alone.
    doc.set(['containerDefinitions', 0, 'environment'], [{ name: 'B', value: '2' }])
    expect(doc.text).toBe(text.replace('environment: *env', 'environment:\n      - name: B\n        value: "2"'))
    // A merged key is read through its alias, and edited no more than the alias.
    const merged = YamlDocument.parse('f.yaml', 'base: &b\n  image: x\nweb:\n  <<: *b\n  name: web\n')
    expect(merged.get(['web', 'image'])).toBe('x')
    expect(failure(() => merged.set(['web', 'image', 'deeper'], 1)).message).toMatch(/cannot edit web\.image\.deeper: the path goes through a merge key/)
  })
})

// ------------------------------------------------------------------------------------------------ the rewrite

const AGENT = 'datacollector-sidecar'
const ARN = 'arn:aws:ssm:eu-central-1:123456789012:parameter/lacework/token'
const TOKENS: TokenSource[] = [
  { kind: 'plaintext', value: 'abcdefghijklmnopqrstuvwx1234' },
  { kind: 'secret', valueFrom: ARN }
]
const settingsFor = (token: TokenSource): AgentSettings => ({
  agentImage: 'lacework/datacollector:latest-sidecar',
  agentContainerName: AGENT,
  serverUrl: 'https://api.fra.lacework.net',
  token
})

interface Variant {
  mode: Placement
  nonRootStrategy: NonRootStrategy
  user: string
}
const VARIANTS: Variant[] = [
  { mode: 'sidecar', nonRootStrategy: 'sudo', user: 'root' },
  { mode: 'embedded', nonRootStrategy: 'sudo', user: '' },
  { mode: 'sidecar', nonRootStrategy: 'sudo', user: '101' },
  { mode: 'embedded', nonRootStrategy: 'sudo', user: 'app:app' },
  { mode: 'sidecar', nonRootStrategy: 'run-as-root', user: '1000' },
  { mode: 'embedded', nonRootStrategy: 'run-as-root', user: 'nginx' },
  { mode: 'sidecar', nonRootStrategy: 'drop-privileges', user: '101:101' },
  { mode: 'embedded', nonRootStrategy: 'drop-privileges', user: 'app' }
]

/** Plans every essential app container with the image facts given, as the action does, into rewrite inputs. */
function changesFor(definition: { containerDefinitions: ContainerDefinition[] }, facts: (image: string) => ImageFacts, variant: Variant): ContainerChange[] {
  return definition.containerDefinitions.flatMap((container, index) => {
    if (container.essential === false || container.name === AGENT) return []
    const plan = planContainer(container, facts(container.image as string), { mode: variant.mode, nonRootStrategy: variant.nonRootStrategy })
    return [{ index, plan, image: plan.build ? `registry.example/built-${index}@sha256:${'b'.repeat(64)}` : (container.image as string) }]
  })
}

/** Rewrites the YAML text and the same definition as JSON; returns both outputs and the second YAML application. */
function rewriteBoth(yamlText: string, changes: ContainerChange[], settings: AgentSettings): { yaml: string; json: string; again: string } {
  const yamlDoc = YamlDocument.parse('task.yaml', yamlText)
  const jsonDoc = JsonDocument.parse('task.json', JSON.stringify(read(yamlText), null, 2))
  rewriteTaskDefinition(yamlDoc, changes, settings)
  rewriteTaskDefinition(jsonDoc, changes, settings)
  const again = YamlDocument.parse('task.yaml', yamlDoc.text)
  rewriteTaskDefinition(again, changes, settings)
  return { yaml: yamlDoc.text, json: jsonDoc.text, again: again.text }
}

const SHAPES: Record<string, string> = {
  'block, 2 spaces, comments everywhere': [
    '# ECS task definition for web',
    'family: web',
    'networkMode: awsvpc',
    'requiresCompatibilities: [FARGATE]',
    'cpu: "256"',
    'memory: "512"',
    'containerDefinitions:',
    '  # the application',
    '  - name: web',
    '    image: registry.example/web:1  # bumped by CI',
    '    essential: true',
    '    portMappings:',
    '      - containerPort: 80',
    '        protocol: tcp',
    '    environment:',
    '      # plain settings',
    '      - name: MODE',
    '        value: production',
    '      # the token used to be here',
    '      - name: LaceworkAccessToken',
    "        value: 'old-plaintext-token'",
    '    logConfiguration:',
    '      logDriver: awslogs',
    '      options:',
    '        awslogs-group: /ecs/web  # the group',
    '  # a helper that runs once',
    '  - name: init',
    '    image: registry.example/init:1',
    '    essential: false',
    ''
  ].join('\n'),
  '4 spaces, flush lists, flow lists and maps, CRLF, no final newline': [
    'family: api',
    'containerDefinitions:',
    '-   name: api',
    '    image: "registry.example/api:2"',
    '    user: "1000"',
    '    entryPoint: ["/docker-entrypoint.sh"]',
    '    command: [node, server.js, --port, "8080"]',
    '    environment: [{name: A, value: "1"}, {name: LaceworkServerUrl, value: https://old.lacework.net}]',
    '    secrets:',
    '    -   name: LaceworkAccessToken  # from SSM',
    '        valueFrom: arn:aws:ssm:eu-central-1:123456789012:parameter/old',
    '    linuxParameters: {capabilities: {add: [NET_BIND_SERVICE]}}',
    '    # the agent sidecar, already there with another image',
    '-   name: datacollector-sidecar',
    '    image: lacework/datacollector:5.8-sidecar',
    '    essential: true'
  ].join('\r\n'),
  'nulls and empty values in place of lists and maps': [
    'containerDefinitions:',
    '  - name: worker',
    '    image: registry.example/worker:3',
    '    user:',
    '    entryPoint: ~',
    '    command: null',
    '    environment: []',
    '    secrets: ~',
    '    linuxParameters:',
    '      capabilities:',
    '        add:   # none yet',
    '    volumesFrom: []',
    '    dependsOn:',
    ''
  ].join('\n'),
  'all flow, two app containers': [
    '{family: two, containerDefinitions: [',
    '  {name: a, image: "registry.example/a:1", command: [sh, -c, "exec a"]},',
    '  {name: b, image: "registry.example/b:1", environment: [{name: X, value: y}]}',
    ']}',
    ''
  ].join('\n')
}

const IMAGE_FACTS = (user: string) => (image: string): ImageFacts => ({
  reference: image,
  user,
  entrypoint: ['/docker-entrypoint.sh'],
  cmd: ['nginx', '-g', 'daemon off;']
})

describe('rewriteTaskDefinition on a YamlDocument gives the data it gives on a JsonDocument', () => {
  const cases = Object.keys(SHAPES).flatMap(shape => VARIANTS.flatMap(variant => TOKENS.map(token => ({ shape, variant, token }))))
  it.each(cases)('$shape: $variant.mode, $variant.nonRootStrategy, image user "$variant.user", $token.kind token', ({ shape, variant, token }) => {
    const text = SHAPES[shape]
    const definition = read(text) as { containerDefinitions: ContainerDefinition[] }
    expect(YamlDocument.parse('task.yaml', text).value).toEqual(definition)
    const settings = settingsFor(token)
    const changes = changesFor(definition, IMAGE_FACTS(variant.user), variant)
    expect(changes.length).toBeGreaterThan(0)
    const { yaml, json, again } = rewriteBoth(text, changes, settings)
    expect(read(yaml)).toEqual(JSON.parse(json))
    expect(YamlDocument.parse('task.yaml', yaml).value).toEqual(JSON.parse(json))
    // The rewrite did something: the token, the server URL and the image are where the pattern puts them.
    const container = (read(yaml) as { containerDefinitions: ContainerDefinition[] }).containerDefinitions[changes[0].index]
    expect(container.environment?.some(entry => entry.name === SERVER_URL_VARIABLE)).toBe(true)
    const tokenIn = token.kind === 'plaintext' ? container.environment : container.secrets
    expect(tokenIn?.some(entry => entry.name === TOKEN_VARIABLE)).toBe(true)
    expect(container.image).toBe(changes[0].image)
    // A second application changes nothing; the file keeps its comments, line breaks and final newline (or none).
    expect(again).toBe(yaml)
    for (const line of text.split(/\r?\n/).filter(item => item.trim().startsWith('#'))) expect(yaml.split(/\r?\n/)).toContain(line)
    expect(yaml.includes('\r\n')).toBe(text.includes('\r\n'))
    if (text.includes('\r\n')) expect(yaml.replace(/\r\n/g, '')).not.toContain('\n')
    expect(/\n$/.test(yaml)).toBe(/\n$/.test(text))
  })

  it('writes the sidecar pattern into the YAML as a reviewer expects to read it', () => {
    const text = SHAPES['block, 2 spaces, comments everywhere']
    const changes = changesFor(read(text) as { containerDefinitions: ContainerDefinition[] }, IMAGE_FACTS('root'), VARIANTS[0])
    const { yaml } = rewriteBoth(text, changes, settingsFor(TOKENS[1]))
    expect(yaml).toBe(
      [
        '# ECS task definition for web',
        'family: web',
        'networkMode: awsvpc',
        'requiresCompatibilities: [FARGATE]',
        'cpu: "256"',
        'memory: "512"',
        'containerDefinitions:',
        '  # the application',
        '  - name: web',
        '    image: registry.example/web:1  # bumped by CI',
        '    essential: true',
        '    portMappings:',
        '      - containerPort: 80',
        '        protocol: tcp',
        '    environment:',
        '      # plain settings',
        '      - name: MODE',
        '        value: production',
        '      - name: LaceworkServerUrl',
        '        value: https://api.fra.lacework.net',
        '      # the token used to be here',
        '    logConfiguration:',
        '      logDriver: awslogs',
        '      options:',
        '        awslogs-group: /ecs/web  # the group',
        '    entryPoint:',
        '      - /var/lib/lacework-backup/lacework-sidecar.sh',
        '      - /docker-entrypoint.sh',
        '    command:',
        '      - nginx',
        '      - -g',
        '      - daemon off;',
        '    secrets:',
        '      - name: LaceworkAccessToken',
        `        valueFrom: ${ARN}`,
        '    volumesFrom:',
        '      - sourceContainer: datacollector-sidecar',
        '        readOnly: true',
        '    dependsOn:',
        '      - containerName: datacollector-sidecar',
        '        condition: SUCCESS',
        '  # a helper that runs once',
        '  - name: init',
        '    image: registry.example/init:1',
        '    essential: false',
        '  - essential: false',
        '    name: datacollector-sidecar',
        '    image: lacework/datacollector:latest-sidecar',
        ''
      ].join('\n')
    )
  })
})

// ----------------------------------------------------------------------------------------- property (fast-check)

// Bounded: FC_RUNS runs (150 by default); replay a failure with FC_SEED=<seed> FC_PATH=<path>.
const RUNS = Number(process.env.FC_RUNS ?? 150)
const REPLAY = process.env.FC_SEED ? { seed: Number(process.env.FC_SEED), path: process.env.FC_PATH } : {}

type Data = null | boolean | number | string | Data[] | { [key: string]: Data }

/** Small deterministic choices for the writer, from a seed fast-check picks. */
function chooser(seed: number): (n: number) => number {
  let state = seed >>> 0
  return n => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (((t ^ (t >>> 14)) >>> 0) % n)
  }
}

interface WriteStyle {
  unit: number
  flush: boolean
  eol: '\n' | '\r\n'
  finalNewline: boolean
  seed: number
  /** Out of 10: how often a collection is written in flow style, a comment line or a trailing comment added. */
  flow: number
  comments: number
}

/** A YAML writer for the generator (not YamlDocument's renderer): block or flow per collection, comments sprinkled. */
function writeYaml(value: Data, style: WriteStyle): string {
  const pick = chooser(style.seed)
  let comment = 0
  const commentLine = (indent: number): string[] => (pick(10) < style.comments ? [`${' '.repeat(indent)}# comment ${++comment}`] : [])
  const trailing = (): string => (pick(10) < style.comments ? `  # trailing ${++comment}` : '')
  const scalar = (item: Data, flow: boolean): string => {
    if (item === null) return ['~', 'null'][pick(2)]
    if (typeof item !== 'string') return String(item)
    const plain = /^[A-Za-z/][\w/.:@-]*$/.test(item) && !(flow && /[,[\]{}]/.test(item)) && parseYamlLibrary(item) === item
    const way = pick(3)
    if (plain && way === 0) return item
    if (way === 1 && /^[\x20-\x7e\u00a0-\ud7ff]*$/.test(item)) return `'${item.replace(/'/g, "''")}'`
    return JSON.stringify(item)
  }
  const inline = (item: Data): string => {
    if (Array.isArray(item)) return `[${item.map(inline).join(', ')}]`
    if (item !== null && typeof item === 'object') {
      const entries = Object.entries(item).map(([key, inner]) => `${key}: ${inline(inner)}`)
      return pick(2) ? `{${entries.join(', ')}}` : `{ ${entries.join(', ')} }`
    }
    return scalar(item, true)
  }
  const flowOrScalar = (item: Data): boolean => item === null || typeof item !== 'object' || Object.keys(item).length === 0 || pick(10) < style.flow
  const map = (item: { [key: string]: Data }, indent: number, firstJoined: boolean): string[] => {
    const lines: string[] = []
    // Keys in any order: a container may start with the field an edit removes.
    const keyed = Object.entries(item)
    for (let i = keyed.length - 1; i > 0; i--) {
      const j = pick(i + 1)
      ;[keyed[i], keyed[j]] = [keyed[j], keyed[i]]
    }
    keyed.forEach(([key, inner], i) => {
      const pad = i === 0 && firstJoined ? '' : ' '.repeat(indent)
      if (!(i === 0 && firstJoined)) lines.push(...commentLine(indent))
      if (inner === null && pick(3) === 0) lines.push(`${pad}${key}:${trailing()}`)
      else if (flowOrScalar(inner)) lines.push(`${pad}${key}: ${inline(inner)}${trailing()}`)
      else if (Array.isArray(inner)) lines.push(`${pad}${key}:${trailing()}`, ...seq(inner, style.flush ? indent : indent + style.unit))
      else lines.push(`${pad}${key}:${trailing()}`, ...map(inner as { [key: string]: Data }, indent + style.unit, false))
    })
    return lines
  }
  const seq = (items: Data[], indent: number): string[] => {
    const lines: string[] = []
    for (const item of items) {
      lines.push(...commentLine(indent))
      const dash = `${' '.repeat(indent)}- `
      if (flowOrScalar(item)) lines.push(`${dash}${inline(item)}${trailing()}`)
      else if (Array.isArray(item)) lines.push(`${dash}${inline(item)}`)
      else {
        const [first, ...rest] = map(item as { [key: string]: Data }, indent + 2, true)
        lines.push(dash + first, ...rest)
      }
    }
    return lines
  }
  const lines = [...commentLine(0), ...map(value as { [key: string]: Data }, 0, false)]
  return lines.join(style.eol) + (style.finalNewline ? style.eol : '')
}

const USERS = ['', 'root', '0', '101', 'app:app', '1000:1000']
const ARGS = ['/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;', 'sh', '-c', 'exec "$@"', 'a\\b "c"\n', '', 'café ☕', '# not a comment', 'key: value', '- dash', 'yes', 'null', '123', ' lead', '[x]', '{y}', "it's"]
const word = fc.stringMatching(/^[a-z][a-z0-9-]{0,7}$/)
const orNull = <T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.oneof({ weight: 4, arbitrary }, { weight: 1, arbitrary: fc.constant(null) })
const args = fc.array(fc.oneof(fc.constantFrom(...ARGS), fc.string({ unit: 'grapheme', maxLength: 8 })), { maxLength: 3 })
const entries = (key: string, value: string, values: fc.Arbitrary<string>) =>
  fc.uniqueArray(fc.record({ [key]: fc.oneof(fc.constantFrom(TOKEN_VARIABLE, SERVER_URL_VARIABLE), word), [value]: values }), { selector: entry => entry[key], maxLength: 3 })

const containerArbitrary = (name: string, images: string[]) =>
  fc
    .record(
      {
        name: fc.constant(name),
        image: fc.constantFrom(...images),
        essential: orNull(fc.boolean()),
        user: orNull(fc.constantFrom(...USERS)),
        entryPoint: orNull(args),
        command: orNull(args),
        environment: orNull(entries('name', 'value', fc.string({ maxLength: 10 }))),
        secrets: orNull(entries('name', 'valueFrom', fc.constant(ARN))),
        linuxParameters: orNull(fc.record({ capabilities: orNull(fc.record({ add: orNull(fc.subarray(['NET_ADMIN', 'SYS_PTRACE'])) }, { requiredKeys: [] })) }, { requiredKeys: [] })),
        volumesFrom: orNull(fc.uniqueArray(fc.record({ sourceContainer: fc.constantFrom(AGENT, 'config'), readOnly: fc.boolean() }), { selector: entry => entry.sourceContainer })),
        dependsOn: orNull(fc.uniqueArray(fc.record({ containerName: fc.constantFrom(AGENT, 'init'), condition: fc.constantFrom('START', 'SUCCESS') }), { selector: entry => entry.containerName })),
        memory: fc.integer({ min: 128, max: 4096 })
      },
      { requiredKeys: ['name', 'image'] }
    )
    // A null essential would read as "not false": keep only what the ECS model takes.
    .map(container => Object.fromEntries(Object.entries(container).filter(([key, value]) => !(key === 'essential' && value === null))) as Data)

const scenario = fc
  .record({ names: fc.uniqueArray(word, { minLength: 1, maxLength: 3 }), withSidecar: fc.boolean() })
  .chain(({ names, withSidecar }) => {
    const images = ['registry.example/app:1', 'registry.example/other:2']
    const apps = names.filter(name => name !== AGENT)
    return fc.record({
      containers: fc.tuple(...(apps.length ? apps : ['app']).map(name => containerArbitrary(name, images))),
      sidecar: fc.constant(withSidecar ? { name: AGENT, image: 'lacework/datacollector:5.8-sidecar', essential: true } : undefined),
      family: word,
      facts: fc.tuple(fc.constantFrom(...USERS), fc.constantFrom(...USERS)).map(([a, b]) => ({ [images[0]]: a, [images[1]]: b })),
      variant: fc.record({ mode: fc.constantFrom<Placement>('sidecar', 'embedded'), nonRootStrategy: fc.constantFrom<NonRootStrategy>('sudo', 'run-as-root', 'drop-privileges'), user: fc.constant('') }),
      token: fc.constantFrom(...TOKENS),
      style: fc.record({
        unit: fc.constantFrom(2, 4),
        flush: fc.boolean(),
        eol: fc.constantFrom<'\n' | '\r\n'>('\n', '\r\n'),
        finalNewline: fc.boolean(),
        seed: fc.integer(),
        flow: fc.integer({ min: 0, max: 10 }),
        comments: fc.integer({ min: 0, max: 6 })
      })
    })
  })

describe('rewriteTaskDefinition over generated YAML task definitions (fast-check)', () => {
  it('parses, equals the JSON rewrite, keeps every comment line, and is a no-op the second time', () => {
    fc.assert(
      fc.property(scenario, s => {
        const containers = [...s.containers] as Data[]
        if (s.sidecar) containers.push(s.sidecar)
        const definition = { family: s.family, containerDefinitions: containers } as Data
        const text = writeYaml(definition, s.style)
        // The writer's text is what it means to be.
        expect(read(text)).toEqual(definition)
        expect(YamlDocument.parse('task.yaml', text).value).toEqual(definition)
        const facts = (image: string): ImageFacts => ({ reference: image, user: s.facts[image], entrypoint: ['/docker-entrypoint.sh'], cmd: ['nginx', '-g', 'daemon off;'] })
        const changes = changesFor(definition as unknown as { containerDefinitions: ContainerDefinition[] }, facts, s.variant)
        fc.pre(changes.length > 0)
        const { yaml, json, again } = rewriteBoth(text, changes, settingsFor(s.token))
        expect(read(yaml)).toEqual(JSON.parse(json))
        expect(YamlDocument.parse('task.yaml', yaml).value).toEqual(JSON.parse(json))
        const outputLines = new Set(yaml.split(/\r?\n/))
        expect(text.split(/\r?\n/).filter(line => line.trim().startsWith('#') && !outputLines.has(line))).toEqual([])
        expect(again).toBe(yaml)
        if (s.style.eol === '\r\n') expect(yaml.replace(/\r\n/g, '')).not.toContain('\n')
        else expect(yaml).not.toContain('\r')
        expect(/\n$/.test(yaml)).toBe(s.style.finalNewline)
      }),
      { numRuns: RUNS, ...REPLAY }
    )
  })
})
