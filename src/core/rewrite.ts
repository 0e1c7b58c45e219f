import { AGENT_SIDECAR_MEMORY_RESERVATION, SERVER_URL_VARIABLE, TOKEN_VARIABLE } from './agent.js'
import type { ContainerPlan } from './container-plan.js'
import { deepEqual, type DocumentPath, type EditableDocument } from './document.js'
import { isEmptyValue } from './empty-values.js'
import { TaskDefinitionError } from './errors.js'
import type { ContainerDefinition } from './task-definition.js'

/** How the agent gets its access token: a value in `environment`, or an SSM / Secrets Manager ARN in `secrets`. */
export type TokenSource = { kind: 'plaintext'; value: string } | { kind: 'secret'; valueFrom: string }

export interface AgentSettings {
  agentImage: string
  agentContainerName: string
  serverUrl?: string
  token?: TokenSource
}

/** A planned container, by its index in containerDefinitions, with the image it is to run (undefined: its own, as written). */
export interface ContainerChange {
  index: number
  plan: ContainerPlan
  image?: string
}

const PTRACE = 'SYS_PTRACE'

/** Applies the plans to the document. Idempotent: a second application finds nothing to change. */
export function rewriteTaskDefinition(doc: EditableDocument, changes: ContainerChange[], settings: AgentSettings): void {
  doc.editEach(
    changes.map(change => ['containerDefinitions', change.index]),
    (container, i) => rewriteContainer(container, changes[i], settings)
  )
  if (changes.some(change => change.plan.attachSidecar)) ensureAgentSidecar(doc, settings)
}

/** One container definition, edited as a document of its own. */
function rewriteContainer(doc: EditableDocument, { plan, image }: ContainerChange, settings: AgentSettings): void {
  // Left as written unless it changes: a template's `Fn::Sub` image stays an `Fn::Sub`.
  if (image !== undefined) doc.set(['image'], image)
  if (plan.runAsRoot) doc.set(['user'], 'root')
  if (plan.entryPoint) doc.set(['entryPoint'], plan.entryPoint)
  if (plan.command === null) doc.remove(['command'])
  else if (plan.command) doc.set(['command'], plan.command)

  if (settings.token?.kind === 'plaintext') {
    upsertByKey(doc, ['environment'], 'name', { name: TOKEN_VARIABLE, value: settings.token.value })
    removeByKey(doc, ['secrets'], 'name', TOKEN_VARIABLE)
  } else if (settings.token?.kind === 'secret') {
    upsertByKey(doc, ['secrets'], 'name', { name: TOKEN_VARIABLE, valueFrom: settings.token.valueFrom })
    removeByKey(doc, ['environment'], 'name', TOKEN_VARIABLE)
  }
  if (settings.serverUrl) upsertByKey(doc, ['environment'], 'name', { name: SERVER_URL_VARIABLE, value: settings.serverUrl })
  if (plan.addPtrace && !listAt(doc, ['linuxParameters', 'capabilities', 'add']).includes(PTRACE)) {
    doc.append(['linuxParameters', 'capabilities', 'add'], PTRACE)
  }
  if (plan.attachSidecar) {
    const name = settings.agentContainerName
    upsertByKey(doc, ['volumesFrom'], 'sourceContainer', { sourceContainer: name, readOnly: true })
    // SUCCESS: the sidecar only has to put its volume in place and exit 0 before the app starts.
    upsertByKey(doc, ['dependsOn'], 'containerName', { containerName: name, condition: 'SUCCESS' })
  }
}

/**
 * The agent sidecar: non-essential (a SUCCESS dependency cannot point at an essential container). Without task-level
 * memory (an EC2 task, or a Terraform array whose task is in HCL) ECS refuses a container with neither `memory` nor
 * `memoryReservation`, so the sidecar gets a small reservation there.
 */
function ensureAgentSidecar(doc: EditableDocument, settings: AgentSettings): void {
  const containers = doc.get(['containerDefinitions']) as ContainerDefinition[]
  const needsMemory = isEmptyValue(doc.get(['memory']))
  const index = containers.findIndex(container => container.name === settings.agentContainerName)
  if (index < 0) {
    const sidecar = { essential: false, name: settings.agentContainerName, image: settings.agentImage }
    doc.append(['containerDefinitions'], needsMemory ? { ...sidecar, memoryReservation: AGENT_SIDECAR_MEMORY_RESERVATION } : sidecar)
    return
  }
  doc.set(['containerDefinitions', index, 'image'], settings.agentImage)
  doc.set(['containerDefinitions', index, 'essential'], false)
  const own = containers[index] as unknown as Record<string, unknown>
  if (needsMemory && isEmptyValue(own.memory) && isEmptyValue(own.memoryReservation)) {
    doc.set(['containerDefinitions', index, 'memoryReservation'], AGENT_SIDECAR_MEMORY_RESERVATION)
  }
}

/** Replaces the entry whose `key` matches, or appends it: environment, secrets, volumesFrom, dependsOn. */
function upsertByKey(doc: EditableDocument, path: DocumentPath, key: string, entry: Record<string, unknown>): void {
  const list = listAt(doc, path) as Record<string, unknown>[]
  const index = list.findIndex(item => item?.[key] === entry[key])
  if (index < 0) doc.append(path, entry)
  else if (!deepEqual(list[index], entry)) doc.set([...path, index], entry)
}

function removeByKey(doc: EditableDocument, path: DocumentPath, key: string, value: string): void {
  const list = listAt(doc, path) as Record<string, unknown>[]
  const index = list.findIndex(item => item?.[key] === value)
  if (index >= 0) doc.remove([...path, index])
}

/**
 * The list at `path` (none, or null: empty). Anything else — a template's `Fn::If` choosing between lists, say — cannot
 * be edited entry by entry: refused at its line rather than overwritten.
 */
function listAt(doc: EditableDocument, path: DocumentPath): unknown[] {
  const value = doc.get(path)
  // Read as the deploy action reads it: "", null, {} and lists of nothing are not set (empty-values.ts).
  if (isEmptyValue(value)) return []
  if (!Array.isArray(value)) throw new TaskDefinitionError(`${path.join('.')} is not a list (${JSON.stringify(value).slice(0, 80)}): it cannot be edited entry by entry; write it as a list`, doc.locate(path))
  return value
}
