import { isIntrinsicFunction } from './cloudformation.js'
import type { DocumentLocation, DocumentPath, EditableDocument } from './document.js'
import { TaskDefinitionError } from './errors.js'

/**
 * Views that let the rewrite, which speaks ECS's RegisterTaskDefinition shape (camelCase paths and values), edit task
 * definitions kept elsewhere: inside a CloudFormation template (PrefixedView + PascalCaseView) or as Terraform's
 * bare container array (ContainerArrayView). Every edit still lands as a minimal text edit in the underlying document.
 */

/** A document seen from one of its nodes: paths are relative to `prefix`; the text is the whole document's. */
export class PrefixedView implements EditableDocument {
  constructor(
    readonly document: EditableDocument,
    readonly prefix: DocumentPath
  ) {}

  get file(): string {
    return this.document.file
  }

  get text(): string {
    return this.document.text
  }

  get value(): unknown {
    return this.document.get(this.prefix)
  }

  get(path: DocumentPath): unknown {
    return this.document.get(this.full(path))
  }

  set(path: DocumentPath, value: unknown): void {
    this.document.set(this.full(path), value)
  }

  append(path: DocumentPath, value: unknown): void {
    this.document.append(this.full(path), value)
  }

  remove(path: DocumentPath): void {
    this.document.remove(this.full(path))
  }

  editEach(paths: DocumentPath[], edit: (part: EditableDocument, index: number) => void): void {
    this.document.editEach(
      paths.map(path => this.full(path)),
      (part, index) => edit(new PrefixedView(part, []), index)
    )
  }

  locate(path: DocumentPath): DocumentLocation {
    return this.document.locate(this.full(path))
  }

  private full(path: DocumentPath): DocumentPath {
    return [...this.prefix, ...path]
  }
}

/**
 * A document whose positions are reported in another one, under `prefix`: an unwrapped describe output, or a part
 * cut out of a file by editEach. Its parts are located in the same way, so an error found while editing one points
 * at the user's own line.
 */
export class LocatedAt implements EditableDocument {
  constructor(
    readonly document: EditableDocument,
    private readonly origin: EditableDocument,
    private readonly prefix: DocumentPath
  ) {}

  get file(): string {
    return this.document.file
  }
  get text(): string {
    return this.document.text
  }
  get value(): unknown {
    return this.document.value
  }
  get(path: DocumentPath): unknown {
    return this.document.get(path)
  }
  set(path: DocumentPath, value: unknown): void {
    this.document.set(path, value)
  }
  append(path: DocumentPath, value: unknown): void {
    this.document.append(path, value)
  }
  remove(path: DocumentPath): void {
    this.document.remove(path)
  }
  editEach(paths: DocumentPath[], edit: (part: EditableDocument, index: number) => void): void {
    this.document.editEach(paths, (part, index) => edit(new LocatedAt(part, this.origin, [...this.prefix, ...paths[index]]), index))
  }
  locate(path: DocumentPath): DocumentLocation {
    return this.origin.locate([...this.prefix, ...path])
  }
}

/**
 * Where CloudFormation's name is not the API's with its first letter upper-cased (AWS::ECS::TaskDefinition
 * reference), by the camelCase name of the object holding it; no parent: anywhere.
 */
const RENAMES: { parent?: string; api: string; cloudFormation: string }[] = [
  { api: 'efsVolumeConfiguration', cloudFormation: 'EFSVolumeConfiguration' },
  { api: 'fsxWindowsFileServerVolumeConfiguration', cloudFormation: 'FSxWindowsFileServerVolumeConfiguration' },
  { parent: 'efsVolumeConfiguration', api: 'fileSystemId', cloudFormation: 'FilesystemId' },
  { parent: 'authorizationConfig', api: 'iam', cloudFormation: 'IAM' },
  { parent: 'proxyConfiguration', api: 'properties', cloudFormation: 'ProxyConfigurationProperties' }
]

/**
 * The maps whose keys are the user's (the ECS model's shapes of type `map` under RegisterTaskDefinitionRequest:
 * DockerLabelsMap, LogConfigurationOptionsMap, FirelensConfigurationOptionsMap, StringMap), by their camelCase name
 * and that of the object holding them; no parent: anywhere.
 */
const FREE_FORM_MAPS: { parent?: string; key: string }[] = [
  { key: 'dockerLabels' },
  { parent: 'logConfiguration', key: 'options' },
  { parent: 'firelensConfiguration', key: 'options' },
  { parent: 'dockerVolumeConfiguration', key: 'driverOpts' },
  { parent: 'dockerVolumeConfiguration', key: 'labels' }
]

/** The camelCase names of the objects from the task definition down to a node, list indexes left out. */
type Trail = readonly string[]

function isFreeFormMap(trail: Trail): boolean {
  const key = trail[trail.length - 1]
  const parent = trail[trail.length - 2]
  return FREE_FORM_MAPS.some(map => map.key === key && (map.parent === undefined || map.parent === parent))
}

function toCloudFormationName(name: string, trail: Trail): string {
  const parent = trail[trail.length - 1]
  const rename = RENAMES.find(entry => entry.api === name && (entry.parent === undefined || entry.parent === parent))
  return rename ? rename.cloudFormation : name.charAt(0).toUpperCase() + name.slice(1)
}

function toApiName(name: string, trail: Trail): string {
  const parent = trail[trail.length - 1]
  const rename = RENAMES.find(entry => entry.cloudFormation === name && (entry.parent === undefined || entry.parent === parent))
  return rename ? rename.api : name.charAt(0).toLowerCase() + name.slice(1)
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** `value`, found at `trail`, with its keys renamed deeply; intrinsic functions and the user's maps kept as they are. */
function convert(value: unknown, trail: Trail, toApi: boolean): unknown {
  if (Array.isArray(value)) return value.map(item => convert(item, trail, toApi))
  if (!isRecord(value) || isIntrinsicFunction(value) || isFreeFormMap(trail)) return value
  // fromEntries defines own keys, so even a `__proto__` key stays a key.
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => {
      const api = toApi ? toApiName(key, trail) : key
      return [toApi ? api : toCloudFormationName(key, trail), convert(item, [...trail, api], toApi)]
    })
  )
}

/**
 * A task definition whose keys are CloudFormation's (`Resources.<Id>.Properties`) seen with ECS's: path segments are
 * mapped camelCase → PascalCase, values read PascalCase → camelCase and values written back, deeply — except intrinsic
 * functions (`{ Ref }`, `{ 'Fn::Sub' }`, …) and the user's maps (`DockerLabels`, log `Options`, …), kept as written.
 */
export class PascalCaseView implements EditableDocument {
  constructor(
    readonly document: EditableDocument,
    /** The camelCase names from the task definition down to this view's root, when it is a part of one. */
    private readonly trail: Trail = []
  ) {}

  get file(): string {
    return this.document.file
  }

  get text(): string {
    return this.document.text
  }

  get value(): unknown {
    return convert(this.document.value, this.trail, true)
  }

  get(path: DocumentPath): unknown {
    return convert(this.document.get(this.map(path)), this.trailTo(path), true)
  }

  set(path: DocumentPath, value: unknown): void {
    this.document.set(this.map(path), convert(value, this.trailTo(path), false))
  }

  append(path: DocumentPath, value: unknown): void {
    // An element of the list at `path` has the list's trail: indexes are not part of it.
    this.document.append(this.map(path), convert(value, this.trailTo(path), false))
  }

  remove(path: DocumentPath): void {
    this.document.remove(this.map(path))
  }

  editEach(paths: DocumentPath[], edit: (part: EditableDocument, index: number) => void): void {
    this.document.editEach(
      paths.map(path => this.map(path)),
      (part, index) => edit(new PascalCaseView(part, this.trailTo(paths[index])), index)
    )
  }

  locate(path: DocumentPath): DocumentLocation {
    return this.document.locate(this.map(path))
  }

  /** The path with CloudFormation's names; a key inside one of the user's maps stays as it is. */
  private map(path: DocumentPath): DocumentPath {
    const trail = [...this.trail]
    return path.map(segment => {
      if (typeof segment === 'number') return segment
      const mapped = isFreeFormMap(trail) || isIntrinsicName(segment) ? segment : toCloudFormationName(segment, trail)
      trail.push(segment)
      return mapped
    })
  }

  private trailTo(path: DocumentPath): Trail {
    return [...this.trail, ...path.filter((segment): segment is string => typeof segment === 'string')]
  }
}

/** A key that opens an intrinsic function: a path may go into one (`['image', 'Fn::Sub']`), never renaming it. */
function isIntrinsicName(segment: string): boolean {
  return segment === 'Ref' || segment === 'Condition' || segment.startsWith('Fn::')
}

const CONTAINERS = 'containerDefinitions'

/**
 * A Terraform `container_definitions` file — a bare JSON array of container definitions — seen as a task definition:
 * `['containerDefinitions', …rest]` is `[…rest]` of the file. The file holds nothing else, so any other top-level path
 * reads as missing and refuses edits.
 */
export class ContainerArrayView implements EditableDocument {
  constructor(readonly document: EditableDocument) {}

  get file(): string {
    return this.document.file
  }

  get text(): string {
    return this.document.text
  }

  get value(): unknown {
    return { [CONTAINERS]: this.document.value }
  }

  get(path: DocumentPath): unknown {
    if (path.length === 0) return this.value
    return path[0] === CONTAINERS ? this.document.get(path.slice(1)) : undefined
  }

  set(path: DocumentPath, value: unknown): void {
    this.document.set(this.inner(path, 'set'), value)
  }

  append(path: DocumentPath, value: unknown): void {
    this.document.append(this.inner(path, 'append to'), value)
  }

  remove(path: DocumentPath): void {
    this.document.remove(this.inner(path, 'remove'))
  }

  /**
   * A part at the container list is seen through a ContainerArrayView again; a part inside a container (the
   * rewrite's `['containerDefinitions', i]`) is that container as the file has it, which is already ECS's shape.
   * A path outside the list names nothing here and is skipped, as a missing node is.
   */
  editEach(paths: DocumentPath[], edit: (part: EditableDocument, index: number) => void): void {
    const parts = paths
      .map((path, index) => ({ path, index }))
      .filter(({ path }) => path.length === 0 || path[0] === CONTAINERS)
    this.document.editEach(
      parts.map(({ path }) => path.slice(1)),
      (part, i) => edit(parts[i].path.length <= 1 ? new ContainerArrayView(part) : part, parts[i].index)
    )
  }

  locate(path: DocumentPath): DocumentLocation {
    return this.document.locate(path[0] === CONTAINERS ? path.slice(1) : [])
  }

  private inner(path: DocumentPath, operation: string): DocumentPath {
    if (path[0] === CONTAINERS) return path.slice(1)
    const dotted = path.map(part => (typeof part === 'number' ? `[${part}]` : `.${part}`)).join('').replace(/^\./, '')
    const shown = path.length === 0 ? 'the whole task definition' : dotted
    throw new TaskDefinitionError(
      `cannot ${operation} ${shown}: a Terraform container_definitions file holds only the container definitions; ` +
        'set it on the aws_ecs_task_definition resource',
      this.document.locate([])
    )
  }
}
