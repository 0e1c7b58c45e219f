import { isAlias, isMap, isPair, isScalar, isSeq, parseDocument, visit, type CST, type Document, type Pair, type ParsedNode, type YAMLMap, type YAMLSeq } from 'yaml'
import { deepEqual, type DocumentLocation, type DocumentPath, type EditableDocument } from './document.js'
import { TaskDefinitionError } from './errors.js'
import { PrefixedView } from './document-views.js'
import { positionOf } from './json-document.js'

/** How the file lays out its YAML, so inserted parts look like the rest. */
export interface YamlLayout {
  eol: string
  /** Spaces from a key to the keys of the map under it. */
  unit: number
  /** Spaces from a key to the `-` of the block list under it: 0 when the file writes `- ` flush with the key. */
  seqIndent: number
  /** Columns from a `-` to the item's content (`- name: x` is 2). */
  gap: number
  /** The quote the file mostly uses where a string cannot be plain. */
  quote: "'" | '"'
  /** `{ a: 1 }` rather than `{a: 1}`; `[ a ]` rather than `[a]`. */
  padMap: boolean
  padSeq: boolean
}

type Collection = YAMLMap.Parsed<ParsedNode, ParsedNode | null> | YAMLSeq.Parsed<ParsedNode>
type Item = ParsedNode | Pair<ParsedNode, ParsedNode | null>
type CstItem = CST.BlockMap['items'][number] | CST.BlockSequence['items'][number] | CST.FlowCollection['items'][number]

/** A map's pair or a list's item, with the offsets an edit needs. */
interface Entry {
  /** The key as data (maps only). */
  key?: string
  keyNode?: ParsedNode | null
  /** The value: a node, a pair in a flow list (`[a: 1]`), or null for a key without a value. */
  node: Item | null
  /** Where the entry starts: its key, its `-`, or (flow lists) its value. */
  start: number
  /** The `:` or `-` before the value; -1 when there is none. */
  indicator: number
  /** The value with its tag and anchor; right after the indicator when the value is empty. */
  valueStart: number
  /** The end of the value's text, without the spaces and comments after it. */
  valueEnd: number
  /** `<<: *anchor`, YAML 1.1's merge key, which ECS's and AWS's YAML readers honour. */
  merge: boolean
}

/** Where a node stands in the text: what an edit of it has to fit into. */
interface Slot {
  kind: 'root' | 'map' | 'seq' | 'flow'
  node: Item | null
  /** The collection holding the node, and the node's entry in it (not for the root). */
  parent?: Collection
  entry?: Entry
  valueStart: number
  valueEnd: number
}

/** How far a path leads into the tree: the slots it passes, and why it stops. */
interface Resolution {
  slots: Slot[]
  /**
   * found: every segment exists; missing: path[depth] is not in the plain collection at slots[depth]; alias: slots[depth]
   * is an alias (or a map whose merge key holds path[depth]) the path would edit through; opaque: slots[depth] is a
   * scalar, a tagged node, or nothing (an empty document).
   */
  stop: 'found' | 'missing' | 'alias' | 'opaque'
  depth: number
}

/** CloudFormation's short-form intrinsic functions, by tag, and the long-form key each reads as. */
const INTRINSICS: Record<string, string> = {
  '!Ref': 'Ref',
  '!Condition': 'Condition',
  ...Object.fromEntries(
    ['Base64', 'Cidr', 'FindInMap', 'GetAtt', 'GetAZs', 'ImportValue', 'Join', 'Select', 'Split', 'Sub', 'Transform', 'GetStackOutput', 'And', 'Equals', 'If', 'Not', 'Or'].map(
      name => [`!${name}`, `Fn::${name}`]
    )
  )
}

/** Aliases may share nodes: reading stops past this many nodes rather than expand a "billion laughs" file. */
const MAX_NODES_READ = 1_000_000

/**
 * A YAML text edited in place: every change is a minimal text splice at the node concerned, so comments, quoting,
 * flow collections, indentation and the final newline of the user's file survive and a diff shows only real changes.
 * (The yaml library's own `toString()` rewrites the whole document: it moves comments and re-spaces flow collections.)
 * CloudFormation's short-form tags (`!Ref x`) read as their long forms (`{ Ref: x }`) and are kept as written.
 */
export class YamlDocument implements EditableDocument {
  /** The parse of `current`, kept until the next edit. */
  private parsed?: { doc: Document.Parsed; referenced: Set<string>; entries: WeakMap<object, Entry[]>; comments: number[] }

  private constructor(
    readonly file: string,
    private current: string,
    readonly layout: YamlLayout,
    /** Lines above this text in the file it was cut from (a part of editEach), so positions point into that file. */
    private readonly lineOffset = 0
  ) {}

  /** Parses `text`; malformed YAML, a duplicate key or a second document is a TaskDefinitionError at its line and column. */
  static parse(file: string, text: string): YamlDocument {
    const doc = parseYaml(file, text)
    const document = new YamlDocument(file, text, detectLayout(text, doc))
    document.parsed = document.index(doc)
    return document
  }

  get text(): string {
    return this.current
  }

  get value(): unknown {
    return this.get([])
  }

  get(path: DocumentPath): unknown {
    const { slots, stop, depth } = this.resolve(path)
    const slot = slots[depth]
    if (stop === 'found') return this.data(slot.node)
    if (stop === 'missing') return undefined
    // Through an alias, a merge or a tag: the rest of the path is read in the data.
    let value = this.data(slot.node)
    for (const segment of path.slice(depth)) {
      if (typeof value !== 'object' || value === null) return undefined
      value = Array.isArray(value) ? (typeof segment === 'number' ? value[segment] : undefined) : Object.hasOwn(value, segment) ? (value as Record<string, unknown>)[segment] : undefined
    }
    return value
  }

  /** Sets `path` to `value` unless it already holds an equal value (so a re-run edits nothing); creates missing ancestors. */
  set(path: DocumentPath, value: unknown): void {
    if (deepEqual(this.get(path), value)) return
    const resolution = this.resolve(path)
    this.guard(path, resolution)
    const { slots, stop, depth } = resolution
    const slot = slots[depth]
    if (stop === 'found') return this.replace(slot, path, value)
    const rest = path.slice(depth)
    if (stop === 'opaque') return this.replaceWhole(slot, setIn(this.data(slot.node), rest, value))
    // missing: slot holds a plain collection without path[depth].
    const inner = build(rest.slice(1), value)
    if (isSeq(slot.node)) {
      if (typeof rest[0] !== 'number') throw new Error(`cannot set key ${JSON.stringify(rest[0])} of the list at ${formatPath(path.slice(0, depth))}`)
      return this.insertItem(slot, slot.node.items.length, inner)
    }
    this.insertPair(slot, String(rest[0]), inner)
  }

  /** Appends `value` to the list at `path`, creating the list when it is missing (or null). */
  append(path: DocumentPath, value: unknown): void {
    const resolution = this.resolve(path)
    const slot = resolution.slots[resolution.depth]
    if (resolution.stop === 'found' && isPlainCollection(slot.node) && isSeq(slot.node)) {
      this.guard(path, resolution)
      return this.insertItem(slot, slot.node.items.length, value)
    }
    // Appending to an alias's list would edit the anchored list.
    if (resolution.stop === 'found' && isAlias(slot.node)) this.guard(path, { ...resolution, stop: 'alias', depth: path.length })
    const old = this.get(path)
    this.set(path, [...(Array.isArray(old) ? old : []), value])
  }

  /** Removes a pair or a list item: all its lines in block style, the element and its comma in flow style. */
  remove(path: DocumentPath): void {
    if (path.length === 0 || this.get(path) === undefined) return
    const resolution = this.resolve(path)
    this.guard(path, resolution)
    const { slots, stop, depth } = resolution
    if (stop === 'found') return this.removeEntry(slots[depth - 1], slots[depth].entry as Entry)
    if (stop === 'opaque') this.replaceWhole(slots[depth], deleteIn(this.data(slots[depth].node), path.slice(depth)))
  }

  /**
   * Edits each node at `paths` as a document of its own, then puts them back: later nodes first, so one parse of this
   * document serves all of them. A part is the node's text, with what precedes it on its first line (`  - `) blanked.
   */
  editEach(paths: DocumentPath[], edit: (part: EditableDocument, index: number) => void): void {
    const { referenced } = this.tree()
    // An alias in a part would dangle, and an anchor there could be aliased outside it: edit through views then.
    const views = referenced.size > 0 || /^%/m.test(this.current)
    const parts = paths
      .map((path, index) => ({ path, index, resolution: this.resolve(path) }))
      .filter(part => part.resolution.stop === 'found')
      .map(part => ({ ...part, slot: part.resolution.slots[part.resolution.depth] }))
      .sort((a, b) => b.slot.valueStart - a.slot.valueStart)
    for (const { path, index, slot } of parts) {
      const plain = isPlainCollection(slot.node) && slot.valueStart === (slot.node as ParsedNode).range[0]
      if (views || !plain) {
        edit(new PrefixedView(this, path), index)
        continue
      }
      const lineStart = this.lineStart(slot.valueStart)
      const width = slot.valueStart - lineStart
      // A block node owns the rest of its last line (its trailing comment); a flow node ends at its bracket.
      const end = slot.kind === 'flow' ? slot.valueEnd : this.lineEnd(slot.valueEnd)
      const from = slot.kind === 'flow' ? slot.valueStart : lineStart
      const head = this.current.slice(from, slot.valueStart)
      const body = ' '.repeat(width) + this.current.slice(slot.valueStart, end)
      let part: YamlDocument
      try {
        part = new YamlDocument(this.file, body, this.layout, this.lineOffset + this.current.slice(0, lineStart).split('\n').length - 1)
        part.parsed = part.index(parseYaml(this.file, body))
      } catch {
        edit(new PrefixedView(this, path), index)
        continue
      }
      edit(part, index)
      // Comment lines the part now starts with (its first pair removed) go above the line that holds `  - `.
      const root = part.resolve([]).slots[0]
      const rootLine = slot.kind === 'flow' || !root.node ? 0 : part.lineStart(root.valueStart)
      const above = part.text.slice(0, rootLine)
      const rest = part.text.slice(rootLine)
      const edited = above + head + (rest.startsWith(' '.repeat(width)) ? rest.slice(width) : rest.trimStart())
      this.current = this.current.slice(0, from) + edited + this.current.slice(end)
      this.parsed = undefined
    }
  }

  /** Where `path` starts (1-based): a map value's key, a list item's value; the nearest existing ancestor if it is missing. */
  locate(path: DocumentPath): DocumentLocation {
    const { slots } = this.resolve(path)
    const slot = slots[slots.length - 1]
    if (!slot.node && slot.kind === 'root') return { file: this.file, line: 1 + this.lineOffset, column: 1 }
    // A map's value is where its key is, as editors point at a property.
    const start = slot.entry?.key !== undefined ? slot.entry.start : slot.valueStart
    const { line, column } = positionOf(this.current, start)
    return { file: this.file, line: line + this.lineOffset, column }
  }

  // ------------------------------------------------------------------------------------------- reading

  private tree(): NonNullable<YamlDocument['parsed']> {
    this.parsed ??= this.index(parseYaml(this.file, this.current))
    return this.parsed
  }

  private index(doc: Document.Parsed): NonNullable<YamlDocument['parsed']> {
    const referenced = new Set<string>()
    visit(doc, {
      Alias: (_key, alias) => {
        if (!alias.resolve(doc)) {
          throw new TaskDefinitionError(`alias *${alias.source} refers to no anchor before it`, this.position(alias.range?.[0] ?? 0))
        }
        referenced.add(alias.source)
      }
    })
    // Where every comment starts, so an edit that drops lines can keep the comment lines among them.
    const comments: number[] = []
    const collect = (token: unknown): void => {
      if (Array.isArray(token)) return token.forEach(collect)
      if (typeof token !== 'object' || token === null) return
      const { type, offset } = token as { type?: string; offset?: number }
      if (type === 'comment' && typeof offset === 'number') comments.push(offset)
      for (const field of ['start', 'key', 'sep', 'value', 'items', 'end', 'props']) collect((token as Record<string, unknown>)[field])
    }
    collect(doc.contents?.srcToken)
    comments.sort((a, b) => a - b)
    return { doc, referenced, entries: new WeakMap(), comments }
  }

  /** The node as plain data: CloudFormation's short forms as long forms, aliases and merge keys resolved. */
  private data(node: Item | null | undefined): unknown {
    const { doc } = this.tree()
    let budget = MAX_NODES_READ
    const active = new Set<object>()
    const read = (item: Item | null | undefined): unknown => {
      if (!item) return null
      if (--budget < 0) throw new TaskDefinitionError(`aliases expand to more than ${MAX_NODES_READ} nodes`, { file: this.file })
      if (isAlias(item)) {
        const target = item.resolve(doc) as ParsedNode
        if (active.has(target)) throw new TaskDefinitionError(`alias *${item.source} refers to a node that contains it`, this.position(item.range[0]))
        active.add(target)
        const value = read(target)
        active.delete(target)
        return value
      }
      if (isPair(item)) return assign({}, keyOf(read(item.key)), read(item.value))
      const intrinsic = typeof item.tag === 'string' ? INTRINSICS[item.tag] : undefined
      if (intrinsic) {
        const inner = isScalar(item) ? item.value : untagged(item)
        // !GetAtt Resource.Attribute: the resource's name ends at the first dot (the attribute may have more).
        const argument = intrinsic === 'Fn::GetAtt' && typeof inner === 'string' && inner.includes('.') ? [inner.slice(0, inner.indexOf('.')), inner.slice(inner.indexOf('.') + 1)] : inner
        return { [intrinsic]: argument }
      }
      return untagged(item)
    }
    const untagged = (item: ParsedNode): unknown => {
      if (isScalar(item)) {
        // Another tag the schema does not know: the value the scalar has without it.
        if (item.tag && !item.tag.startsWith('tag:yaml.org,2002:') && item.type === 'PLAIN' && typeof item.value === 'string') return resolvePlain(item.value)
        return item.value
      }
      if (isSeq(item)) return item.items.map(read)
      if (isMap(item)) {
        const pairs = item.items
        const explicit = new Set(pairs.filter(pair => !isMergeKey(pair.key)).map(pair => keyOf(read(pair.key))))
        const out: Record<string, unknown> = {}
        for (const pair of pairs) {
          if (!isMergeKey(pair.key)) {
            assign(out, keyOf(read(pair.key)), read(pair.value))
            continue
          }
          // Merged maps add the keys the map does not set itself; of two merged maps, the first wins.
          const sources = isSeq(pair.value) ? pair.value.items : [pair.value]
          for (const source of sources) {
            const merged = read(source)
            if (typeof merged !== 'object' || merged === null || Array.isArray(merged)) continue
            for (const [key, value] of Object.entries(merged)) if (!explicit.has(key) && !Object.hasOwn(out, key)) assign(out, key, value)
          }
        }
        return out
      }
      return null
    }
    return read(node)
  }

  /** Follows `path` through the tree as far as it goes. */
  private resolve(path: DocumentPath): Resolution {
    const { doc } = this.tree()
    const root = doc.contents as ParsedNode | null
    const empty = !root || (isScalar(root) && root.range[0] === root.range[1] && root.value === null)
    const rootStart = empty ? this.current.length : root.range[0]
    const slots: Slot[] = [{ kind: 'root', node: empty ? null : root, valueStart: rootStart, valueEnd: empty ? rootStart : this.contentEnd(root) }]
    for (let depth = 0; depth < path.length; depth++) {
      const slot = slots[depth]
      const node = slot.node
      if (isAlias(node)) return { slots, stop: 'alias', depth }
      if (!isPlainCollection(node)) return { slots, stop: 'opaque', depth }
      const segment = path[depth]
      const entries = this.entriesOf(node)
      const entry = isSeq(node)
        ? typeof segment === 'number' && segment >= 0 ? entries[segment] : undefined
        : entries.find(item => !item.merge && item.key === String(segment))
      if (!entry) {
        const mergedHere = isMap(node) && entries.some(item => item.merge) && Object.hasOwn(this.data(node) as object, String(segment))
        return { slots, stop: mergedHere ? 'alias' : 'missing', depth }
      }
      slots.push({
        kind: node.flow ? 'flow' : isSeq(node) ? 'seq' : 'map',
        node: entry.node,
        parent: node,
        entry,
        valueStart: entry.valueStart,
        valueEnd: entry.valueEnd
      })
    }
    return { slots, stop: 'found', depth: path.length }
  }

  /** Refuses an edit that would change an anchored node that aliases elsewhere read. */
  private guard(path: DocumentPath, { slots, stop, depth }: Resolution): void {
    const { referenced } = this.tree()
    if (stop === 'alias') {
      const alias = slots[depth].node as ParsedNode
      const name = isAlias(alias) ? `alias *${alias.source}` : 'a merge key (<<)'
      throw new TaskDefinitionError(
        `cannot edit ${formatPath(path)}: the path goes through ${name}, and an edit there would change the anchored node and every alias of it; write the value out in full`,
        this.position(slots[depth].valueStart)
      )
    }
    for (const slot of slots.slice(0, depth + 1)) {
      const node = slot.node
      if (node && !isPair(node) && node.anchor && referenced.has(node.anchor)) {
        throw new TaskDefinitionError(`cannot edit ${formatPath(path)}: it is inside &${node.anchor}, which aliases elsewhere read too`, this.position(slot.valueStart))
      }
    }
  }

  /** The entries of a collection, with the offsets of their keys, indicators and values (from the parser's tokens). */
  private entriesOf(collection: Collection): Entry[] {
    const { entries } = this.tree()
    const known = entries.get(collection)
    if (known) return known
    const source = collection.srcToken as CST.BlockMap | CST.BlockSequence | CST.FlowCollection | undefined
    if (!source) throw new Error('yaml-document: a collection without source tokens')
    const block = source.type !== 'flow-collection'
    // The parser also keeps comment-only items (after the last entry) and a trailing comma's item: skip them.
    const items = (source.items as CstItem[]).filter(item =>
      source.type === 'block-seq' ? item.start.some(token => token.type === 'seq-item-ind') : Boolean(item.key || item.sep?.length || item.value)
    )
    if (items.length !== collection.items.length) {
      throw new TaskDefinitionError('a collection the YAML reader cannot edit in place', this.position((collection as ParsedNode).range[0]))
    }
    const list = (collection.items as Item[]).map((item, i) => this.entryOf(item, items[i], isMap(collection), block && isSeq(collection)))
    entries.set(collection, list)
    return list
  }

  private entryOf(item: Item, token: CstItem, inMap: boolean, blockSeq: boolean): Entry {
    const pair = inMap ? (item as Pair<ParsedNode, ParsedNode | null>) : undefined
    const node = pair ? pair.value : item
    const significant = (t: CST.SourceToken): boolean => !['space', 'newline', 'comment', 'comma'].includes(t.type)
    let indicator = -1
    let props: CST.SourceToken[]
    if (blockSeq) {
      const dash = token.start.findIndex(t => t.type === 'seq-item-ind')
      indicator = token.start[dash].offset
      props = token.start.slice(dash + 1)
    } else if (pair) {
      const sep = token.sep ?? []
      const colon = sep.findIndex(t => t.type === 'map-value-ind')
      if (colon >= 0) indicator = sep[colon].offset
      props = colon >= 0 ? sep.slice(colon + 1) : []
    } else {
      props = token.start
    }
    props = props.filter(t => t.type === 'tag' || t.type === 'anchor')
    const value = token.value as CST.Token | undefined
    if (value?.type === 'block-scalar') props.push(...(value.props.filter(t => t.type === 'tag' || t.type === 'anchor') as CST.SourceToken[]))
    props.sort((a, b) => a.offset - b.offset)
    const keyNode = pair?.key ?? null
    const keyEnd = keyNode ? this.contentEnd(keyNode) : indicator >= 0 ? indicator : 0
    const empty = !node || (isScalar(node) && node.range[0] === node.range[1])
    const lastProp = props[props.length - 1]
    const valueStart = props.length > 0 ? props[0].offset : empty ? (indicator >= 0 ? indicator + 1 : keyEnd) : itemStart(node as Item)
    const valueEnd = empty ? (lastProp ? lastProp.offset + lastProp.source.length : valueStart) : this.contentEnd(node as Item)
    const firstToken = token.start.find(significant)
    const start = blockSeq
      ? indicator
      : pair
        ? Math.min(firstToken?.offset ?? Infinity, keyNode ? keyNode.range[0] : indicator)
        : Math.min(firstToken?.offset ?? Infinity, valueStart)
    return {
      key: pair ? keyOf(this.data(keyNode)) : undefined,
      keyNode,
      node,
      start,
      indicator,
      valueStart,
      valueEnd,
      merge: pair ? isMergeKey(keyNode) : false
    }
  }

  /** The end of a node's own text: no trailing spaces, line breaks or comments. */
  private contentEnd(node: Item): number {
    let end: number
    if (isPair(node)) return node.value ? this.contentEnd(node.value) : this.contentEnd(node.key)
    if ((isMap(node) || isSeq(node)) && !node.flow && node.items.length > 0) {
      const entries = this.entriesOf(node as Collection)
      const last = entries[entries.length - 1]
      end = Math.max(last.valueEnd, last.start + 1)
    } else {
      end = node.range[1]
    }
    while (end > 0 && ' \t\r\n'.includes(this.current[end - 1])) end--
    return end
  }

  // ------------------------------------------------------------------------------------------- editing

  /** Sets an existing node: key by key into a plain map, item by item into a plain list, else the whole node. */
  private replace(slot: Slot, path: DocumentPath, value: unknown): void {
    const node = slot.node
    if (isPlainCollection(node) && node.items.length > 0) {
      const entries = this.entriesOf(node)
      if (isMap(node) && isRecord(value) && Object.keys(value).length > 0 && !entries.some(entry => entry.merge)) {
        // Sets first: a map emptied on the way would lose its flow style.
        const gone = entries.map(entry => entry.key as string).filter(key => !Object.hasOwn(value, key))
        for (const [key, item] of Object.entries(value)) this.set([...path, key], item)
        for (const key of gone) this.remove([...path, key])
        return
      }
      if (isSeq(node) && Array.isArray(value) && value.length > 0) return this.replaceItems(path, this.data(node) as unknown[], value)
    }
    this.replaceWhole(slot, value)
  }

  /** A list set to another: the common head and tail stay, the middle is set item by item, the rest removed or inserted. */
  private replaceItems(path: DocumentPath, old: unknown[], value: unknown[]): void {
    let head = 0
    while (head < old.length && head < value.length && deepEqual(old[head], value[head])) head++
    let tail = 0
    while (tail < old.length - head && tail < value.length - head && deepEqual(old[old.length - 1 - tail], value[value.length - 1 - tail])) tail++
    const oldMiddle = old.length - head - tail
    const newMiddle = value.length - head - tail
    const paired = Math.min(oldMiddle, newMiddle)
    for (let i = head; i < head + paired; i++) this.set([...path, i], value[i])
    for (let i = head + oldMiddle - 1; i >= head + paired; i--) this.remove([...path, i])
    for (let i = head + paired; i < head + newMiddle; i++) {
      const resolution = this.resolve(path)
      this.insertItem(resolution.slots[resolution.depth], i, value[i])
    }
  }

  /** Replaces the node's text with `value`, rendered to fit where it stands. */
  private replaceWhole(slot: Slot, value: unknown): void {
    this.guardSubtree(slot.node)
    const node = slot.node
    const { eol } = this.layout
    const filling = isCollectionValue(value) && !isEmptyValue(value)
    // A non-empty flow collection stays flow; an empty one in block context is filled in block style.
    const wasFlow = (isMap(node) || isSeq(node)) && node.flow && node.items.length > 0
    const inline = slot.kind === 'flow' || !filling || wasFlow
    const { valueStart, valueEnd } = slot
    if (slot.kind === 'root') {
      if (!node) {
        const text = inline ? this.renderInline(value, false) : this.renderBlock(value, 0)
        const before = this.current.length > 0 && !this.current.endsWith('\n') ? eol : ''
        return this.splice(this.current.length, 0, before + text + eol)
      }
      const column = this.column(valueStart)
      return this.spliceKeepingComments(valueStart, valueEnd, inline ? (this.requote(node, value) ?? this.renderInline(value, false)) : this.renderBlock(value, column), valueStart)
    }
    const entry = slot.entry as Entry
    const touching = valueStart === entry.indicator + 1
    if (inline) {
      const text = this.requote(node, value) ?? this.renderInline(value, slot.kind === 'flow')
      if (slot.kind === 'flow' || this.lineStart(valueStart) === this.lineStart(entry.indicator)) {
        return this.spliceKeepingComments(valueStart, valueEnd, (touching ? ' ' : '') + text, entry.start)
      }
      // The old value started on a later line: the new one goes after the indicator; comment lines in between stay.
      const indicatorLineEnd = this.lineEnd(entry.indicator)
      const rest = this.current.slice(entry.indicator + 1, indicatorLineEnd)
      const between = this.current.slice(indicatorLineEnd, this.lineStart(valueStart)).replace(/\r?\n$/, '')
      const inner = this.commentLines(valueStart, valueEnd).map(line => eol + line).join('')
      return this.splice(entry.indicator + 1, this.lineEnd(valueEnd) - entry.indicator - 1, ' ' + text + (rest.trim() ? rest : '') + between + inner)
    }
    if (slot.kind === 'seq') {
      const seq = slot.parent as YAMLSeq.Parsed<ParsedNode>
      const dash = this.column(entry.indicator)
      const column = touching ? dash + this.gapFor(seq) : this.column(valueStart)
      const pad = touching ? ' '.repeat(column - dash - 1) : ''
      return this.spliceKeepingComments(valueStart, valueEnd, pad + this.renderBlock(value, column), entry.indicator)
    }
    // A map's value: a block collection starts on the line after its key.
    const map = slot.parent as YAMLMap.Parsed<ParsedNode, ParsedNode | null>
    const column = this.column(entry.start) + (Array.isArray(value) ? this.seqIndentFor(map) : this.unitFor(map))
    const block = ' '.repeat(column) + this.renderBlock(value, column)
    const inner = this.commentLines(valueStart, valueEnd).map(line => line + eol).join('')
    if (!touching && this.lineStart(valueStart) !== this.lineStart(entry.indicator)) {
      return this.splice(this.lineStart(valueStart), this.lineEnd(valueEnd) - this.lineStart(valueStart), inner + block)
    }
    const comment = this.current.slice(valueEnd, this.lineEnd(valueEnd))
    this.splice(entry.indicator + 1, this.lineEnd(valueEnd) - entry.indicator - 1, (comment.trim() ? comment : '') + eol + inner + block)
  }

  /** Adds `key: value` to a map: a line after its last pair (block), or `, key: value` before its `}` (flow). */
  private insertPair(slot: Slot, key: string, value: unknown): void {
    const map = slot.node as YAMLMap.Parsed<ParsedNode, ParsedNode | null>
    const entries = this.entriesOf(map)
    if (map.flow) {
      const text = `${this.renderScalar(key, true, true)}: ${this.renderInline(value, true)}`
      if (entries.length === 0) {
        if (slot.kind !== 'flow') return this.replaceWhole(slot, { [key]: value })
        return this.fillFlow(slot, text, this.layout.padMap)
      }
      return this.insertFlowAfter(entries[entries.length - 1], text)
    }
    const column = this.column(entries[0].start)
    const last = entries[entries.length - 1]
    this.splice(this.lineEnd(Math.max(last.valueEnd, last.start)), 0, this.layout.eol + ' '.repeat(column) + this.renderPair(key, value, column, map))
  }

  /** Inserts `value` as item `index` of a list (after the last when `index` is its length). */
  private insertItem(slot: Slot, index: number, value: unknown): void {
    const seq = slot.node as YAMLSeq.Parsed<ParsedNode>
    const entries = this.entriesOf(seq)
    if (seq.flow) {
      const text = this.renderInline(value, true)
      if (entries.length === 0) {
        if (slot.kind !== 'flow') return this.replaceWhole(slot, [value])
        return this.fillFlow(slot, text, this.layout.padSeq)
      }
      if (index >= entries.length) return this.insertFlowAfter(entries[entries.length - 1], text)
      const target = entries[index]
      const ownLine = this.onOwnLine(target.start)
      return this.splice(target.start, 0, ownLine ? `${text},${this.layout.eol}${' '.repeat(this.column(target.start))}` : `${text}, `)
    }
    const dash = this.column(entries[0].indicator)
    const gap = this.gapFor(seq)
    const item = '-' + ' '.repeat(gap - 1) + this.renderItem(value, dash + gap)
    if (index >= entries.length) {
      const last = entries[entries.length - 1]
      return this.splice(this.lineEnd(last.valueEnd), 0, this.layout.eol + ' '.repeat(dash) + item)
    }
    const target = entries[index]
    // Before the comment lines just above the item: they are about it.
    if (this.onOwnLine(target.indicator)) return this.splice(this.commentBlockStart(this.lineStart(target.indicator)), 0, ' '.repeat(dash) + item + this.layout.eol)
    this.splice(target.indicator, 0, item + this.layout.eol + ' '.repeat(dash))
  }

  /** Deletes one entry of the collection at `parent`: its lines (block), or it and its comma (flow). */
  private removeEntry(parent: Slot, entry: Entry): void {
    const collection = parent.node as Collection
    const entries = this.entriesOf(collection)
    this.guardSubtree(entry.node)
    if (entries.length === 1) return this.replaceWhole(parent, isMap(collection) ? {} : [])
    const index = entries.indexOf(entry)
    const previous = entries[index - 1]
    const next = entries[index + 1]
    const end = Math.max(entry.valueEnd, entry.start + 1)
    const { eol } = this.layout
    // Comment lines among the deleted ones stay where they were.
    if (collection.flow && previous) {
      return this.splice(previous.valueEnd, end - previous.valueEnd, this.commentLines(previous.valueEnd, end).map(line => eol + line).join(''))
    }
    if (collection.flow || !this.onOwnLine(entry.start)) {
      // A flow collection's first element, or the first entry of a compact one (`- name: x`): the next one moves up,
      // and the comment lines in between go above the line.
      return this.spliceKeepingComments(entry.start, next.start, '', entry.start)
    }
    const from = this.lineStart(entry.start)
    const lineEnd = this.lineEnd(end)
    const comments = this.commentLines(from, lineEnd)
    if (lineEnd < this.current.length) return this.splice(from, this.nextLineStart(lineEnd) - from, comments.map(line => line + eol).join(''))
    // The last line of a file without a final newline: the line break before it goes, so none is added.
    const before = this.current.slice(0, from).match(/\r?\n$/)?.[0].length ?? 0
    this.splice(from - before, this.current.length - from + before, comments.map(line => eol + line).join(''))
  }

  private insertFlowAfter(last: Entry, text: string): void {
    const end = Math.max(last.valueEnd, last.start + 1)
    const insertion = this.onOwnLine(last.start) ? `,${this.layout.eol}${' '.repeat(this.column(last.start))}${text}` : `, ${text}`
    this.splice(end, 0, insertion)
  }

  /** Writes the first entry into an empty flow collection (`{}` → `{ k: v }`). */
  private fillFlow(slot: Slot, text: string, pad: boolean): void {
    const open = slot.valueStart + (this.current.slice(slot.valueStart, slot.valueEnd).search(/[[{]/))
    const close = slot.valueEnd - 1
    this.splice(open + 1, close - open - 1, pad ? ` ${text} ` : text)
  }

  /** Refuses to replace or delete a node that holds an anchor aliases read. */
  private guardSubtree(node: Item | null): void {
    if (!node) return
    const { referenced } = this.tree()
    if (referenced.size === 0) return
    visit(node as ParsedNode, {
      Node: (_key, inner) => {
        const anchor = (inner as ParsedNode).anchor
        if (anchor && referenced.has(anchor)) {
          throw new TaskDefinitionError(`cannot replace or remove &${anchor}: aliases elsewhere read it`, this.position((inner as ParsedNode).range[0]))
        }
      }
    })
  }

  /** The start of the comment lines right above the line at `lineStart` (itself when there are none). */
  private commentBlockStart(lineStart: number): number {
    const { comments } = this.tree()
    let at = lineStart
    while (at > 0) {
      const previous = this.lineStart(at - 1)
      const line = this.current.slice(previous, this.lineEnd(previous))
      if (!comments.includes(previous + line.length - line.trimStart().length)) break
      at = previous
    }
    return at
  }

  /** The comment lines (a comment alone on its line, with its indentation) that start in [from, to). */
  private commentLines(from: number, to: number): string[] {
    return this.tree()
      .comments.filter(offset => offset >= from && offset < to && this.onOwnLine(offset))
      .map(offset => this.current.slice(this.lineStart(offset), this.lineEnd(offset)))
  }

  /** Replaces [from, to) with `text`; comment lines that were inside go on their own lines before the line of `lineOf`. */
  private spliceKeepingComments(from: number, to: number, text: string, lineOf: number): void {
    const comments = this.commentLines(from, to)
    this.splice(from, to - from, text)
    if (comments.length > 0) this.splice(this.lineStart(lineOf), 0, comments.map(line => line + this.layout.eol).join(''))
  }

  private splice(offset: number, length: number, text: string): void {
    this.current = this.current.slice(0, offset) + text + this.current.slice(offset + length)
    this.parsed = undefined
  }

  // ------------------------------------------------------------------------------------------- rendering

  /** `key: value`, or `key:` and the value's block on the lines below (the first line not indented). */
  private renderPair(key: string, value: unknown, column: number, map?: YAMLMap.Parsed<ParsedNode, ParsedNode | null>): string {
    const name = this.renderScalar(key, false, true)
    if (!isCollectionValue(value) || isEmptyValue(value)) return `${name}: ${this.renderInline(value, false)}`
    const indent = Array.isArray(value) ? (map ? this.seqIndentFor(map) : this.layout.seqIndent) : map ? this.unitFor(map) : this.layout.unit
    return `${name}:${this.layout.eol}${' '.repeat(column + indent)}${this.renderBlock(value, column + indent)}`
  }

  /** A list item's content after its `- `: inline, or a compact block (`name: x` / `  value: y`). */
  private renderItem(value: unknown, column: number): string {
    return !isCollectionValue(value) || isEmptyValue(value) ? this.renderInline(value, false) : this.renderBlock(value, column)
  }

  /** A block collection at `column`; its first line is not indented (the caller places it). */
  private renderBlock(value: unknown, column: number): string {
    const { eol, gap } = this.layout
    const indent = ' '.repeat(column)
    if (Array.isArray(value)) {
      return value.map((item, i) => (i > 0 ? indent : '') + '-' + ' '.repeat(gap - 1) + this.renderItem(item, column + gap)).join(eol)
    }
    if (isRecord(value)) return Object.entries(value).map(([key, item], i) => (i > 0 ? indent : '') + this.renderPair(key, item, column)).join(eol)
    return this.renderInline(value, false)
  }

  /** A value on one line: a scalar, or a flow collection spaced like the file's. */
  private renderInline(value: unknown, flow: boolean): string {
    if (Array.isArray(value)) {
      if (value.length === 0) return '[]'
      const items = value.map(item => this.renderInline(item, true)).join(', ')
      return this.layout.padSeq ? `[ ${items} ]` : `[${items}]`
    }
    if (isRecord(value)) {
      const entries = Object.entries(value).map(([key, item]) => `${this.renderScalar(key, true, true)}: ${this.renderInline(item, true)}`)
      if (entries.length === 0) return '{}'
      return this.layout.padMap ? `{ ${entries.join(', ')} }` : `{${entries.join(', ')}}`
    }
    return this.renderScalar(value, flow, false)
  }

  /** A scalar: plain when YAML reads it back as the same value, else quoted the way the file mostly quotes. */
  private renderScalar(value: unknown, flow: boolean, key: boolean): string {
    if (value === null || value === undefined) return 'null'
    if (typeof value === 'boolean') return String(value)
    if (typeof value === 'number') return Number.isNaN(value) ? '.nan' : value === Infinity ? '.inf' : value === -Infinity ? '-.inf' : String(value)
    if (typeof value === 'bigint') return String(value)
    const text = String(value)
    if (plainAllowed(text, flow, key)) return text
    if (this.layout.quote === "'" && SINGLE_QUOTABLE.test(text)) return `'${text.replace(/'/g, "''")}'`
    return doubleQuote(text)
  }

  /** A string that replaces a quoted scalar keeps its quotes (`'web:1'` becomes `'web:2'`, not `web:2`). */
  private requote(node: Item | null, value: unknown): string | undefined {
    if (typeof value !== 'string' || !isScalar(node) || node.tag) return undefined
    if (node.type === 'QUOTE_DOUBLE' || (node.type === 'QUOTE_SINGLE' && !SINGLE_QUOTABLE.test(value))) return doubleQuote(value)
    if (node.type === 'QUOTE_SINGLE') return `'${value.replace(/'/g, "''")}'`
    return undefined
  }

  // ------------------------------------------------------------------------------------------- layout

  /** The indentation of the maps under this map's keys, or the file's. */
  private unitFor(map: YAMLMap.Parsed<ParsedNode, ParsedNode | null>): number {
    for (const entry of this.entriesOf(map)) {
      const node = entry.node
      if (isMap(node) && !node.flow && node.items.length > 0 && !this.onSameLine(entry.start, entry.valueStart)) return this.column(node.range[0]) - this.column(entry.start)
    }
    return this.layout.unit
  }

  /** Where this map's block lists put their `-`: flush with the key or indented, as its other lists do. */
  private seqIndentFor(map: YAMLMap.Parsed<ParsedNode, ParsedNode | null>): number {
    for (const entry of this.entriesOf(map)) {
      const node = entry.node
      if (isSeq(node) && !node.flow && node.items.length > 0) return this.column(node.range[0]) - this.column(entry.start)
    }
    return this.layout.seqIndent
  }

  /** The columns from `-` to the item in this list, or in the file. */
  private gapFor(seq: YAMLSeq.Parsed<ParsedNode>): number {
    for (const entry of this.entriesOf(seq)) {
      if (entry.valueStart > entry.indicator + 1 && this.onSameLine(entry.indicator, entry.valueStart)) return entry.valueStart - entry.indicator
    }
    return this.layout.gap
  }

  // ------------------------------------------------------------------------------------------- text positions

  private lineStart(offset: number): number {
    return this.current.lastIndexOf('\n', offset - 1) + 1
  }

  /** The end of the line `offset` is on, before its line break. */
  private lineEnd(offset: number): number {
    const newline = this.current.indexOf('\n', offset)
    if (newline < 0) return this.current.length
    return this.current[newline - 1] === '\r' && newline - 1 >= offset ? newline - 1 : newline
  }

  private nextLineStart(offset: number): number {
    const newline = this.current.indexOf('\n', offset)
    return newline < 0 ? this.current.length : newline + 1
  }

  private column(offset: number): number {
    return offset - this.lineStart(offset)
  }

  private onOwnLine(offset: number): boolean {
    return this.current.slice(this.lineStart(offset), offset).trim() === ''
  }

  private onSameLine(a: number, b: number): boolean {
    return this.lineStart(a) === this.lineStart(b)
  }

  private position(offset: number): DocumentLocation {
    const { line, column } = positionOf(this.current, offset)
    return { file: this.file, line: line + this.lineOffset, column }
  }
}

// --------------------------------------------------------------------------------------------- helpers

/** Parses one YAML document; its problems as TaskDefinitionErrors at their position. */
function parseYaml(file: string, text: string): Document.Parsed {
  const doc = parseDocument(text, { keepSourceTokens: true, uniqueKeys: true, prettyErrors: false })
  const error = doc.errors[0]
  if (error) {
    const at = { file, ...positionOf(text, error.pos[0]) }
    if (error.code === 'MULTIPLE_DOCS') throw new TaskDefinitionError('a second YAML document starts here; a task definition file holds one', at)
    if (error.code === 'DUPLICATE_KEY') {
      let key = text.slice(error.pos[0], error.pos[1])
      visit(doc, {
        Pair: (_key, pair) => {
          const node = pair.key as ParsedNode | null
          if (isScalar(node) && node.range[0] === error.pos[0]) key = String(node.value)
        }
      })
      throw new TaskDefinitionError(`duplicate key ${JSON.stringify(key)} in one mapping`, at)
    }
    const reason = error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')
    throw new TaskDefinitionError(`malformed YAML: ${reason}`, at)
  }
  return doc
}

/** The file's own style: line break, indentation of nested maps and lists, quotes, spacing in flow collections. */
export function detectLayout(text: string, doc?: Document.Parsed): YamlLayout {
  const eol = text.includes('\r\n') ? '\r\n' : '\n'
  const votes = { unit: new Map<number, number>(), seq: new Map<number, number>(), gap: new Map<number, number>(), quote: new Map<"'" | '"', number>(), padMap: new Map<boolean, number>(), padSeq: new Map<boolean, number>() }
  const vote = <K>(tally: Map<K, number>, key: K): void => {
    tally.set(key, (tally.get(key) ?? 0) + 1)
  }
  const column = (offset: number): number => offset - text.lastIndexOf('\n', offset - 1) - 1
  const walk = (token: CST.Token | null | undefined): void => {
    if (!token) return
    switch (token.type) {
      case 'block-map':
        for (const item of token.items) {
          const key = item.key as CST.Token | null | undefined
          const keyColumn = column(key?.offset ?? token.offset)
          const value = item.value
          if (value?.type === 'block-map' && column(value.offset) > keyColumn) vote(votes.unit, column(value.offset) - keyColumn)
          if (value?.type === 'block-seq') vote(votes.seq, column(value.offset) - keyColumn)
          walk(key)
          walk(value)
        }
        break
      case 'block-seq':
        for (const item of token.items) {
          const dash = item.start.find(t => t.type === 'seq-item-ind')
          const value = item.value
          if (dash && value && text.lastIndexOf('\n', value.offset) < dash.offset) vote(votes.gap, value.offset - dash.offset)
          walk(value)
        }
        break
      case 'flow-collection': {
        const after = text[token.start.offset + 1]
        if (token.items.length > 0) vote(token.start.type === 'flow-map-start' ? votes.padMap : votes.padSeq, after === ' ')
        for (const item of token.items) {
          walk(item.key as CST.Token | null | undefined)
          walk(item.value)
        }
        break
      }
      case 'single-quoted-scalar':
        vote(votes.quote, "'")
        break
      case 'double-quoted-scalar':
        vote(votes.quote, '"')
        break
    }
  }
  walk(doc?.contents?.srcToken as CST.Token | undefined)
  const top = <K>(tally: Map<K, number>, fallback: K): K => {
    let best = fallback
    let count = 0
    for (const [key, n] of tally) if (n > count) [best, count] = [key, n]
    return best
  }
  const unit = top(votes.unit, 2)
  return {
    eol,
    unit,
    seqIndent: top(votes.seq, unit),
    gap: Math.max(2, top(votes.gap, 2)),
    quote: top(votes.quote, '"' as "'" | '"'),
    padMap: top(votes.padMap, true),
    padSeq: top(votes.padSeq, false)
  }
}

function isPlainCollection(node: Item | null | undefined): node is Collection {
  return (isMap(node) || isSeq(node)) && (!(node as Collection).tag || ((node as Collection).tag as string).startsWith('tag:yaml.org,2002:'))
}

function isMergeKey(node: ParsedNode | null | undefined): boolean {
  return isScalar(node) && node.type === 'PLAIN' && node.value === '<<' && !node.tag
}

/** Where an item's text starts: a pair (in a flow list) at its key. */
function itemStart(item: Item): number {
  if (isPair(item)) return (item.key as ParsedNode | null)?.range[0] ?? (item.value as ParsedNode).range[0]
  return item.range[0]
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isCollectionValue(value: unknown): boolean {
  return typeof value === 'object' && value !== null
}

function isEmptyValue(value: unknown): boolean {
  return Array.isArray(value) ? value.length === 0 : isRecord(value) && Object.keys(value).length === 0
}

/** A key as JSON has it: a string. */
function keyOf(value: unknown): string {
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)
}

/** Sets a property as JSON.parse does: `__proto__` is an own key, not the prototype. */
function assign(target: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  return target
}

/** `value` wrapped in the objects and lists `rest` leads through. */
function build(rest: DocumentPath, value: unknown): unknown {
  return rest.reduceRight<unknown>((inner, segment) => (typeof segment === 'number' ? [inner] : { [segment]: inner }), value)
}

/** A copy of `data` with `value` at `rest`; what is not an object or list on the way becomes one. */
function setIn(data: unknown, rest: DocumentPath, value: unknown): unknown {
  if (rest.length === 0) return value
  const [segment, ...more] = rest
  if (Array.isArray(data) && typeof segment === 'number') {
    const copy = [...data]
    copy[Math.min(segment, copy.length)] = setIn(copy[segment], more, value)
    return copy
  }
  if (isRecord(data) && typeof segment === 'string') return assign({ ...data }, segment, setIn(data[segment], more, value))
  return build(rest, value)
}

function deleteIn(data: unknown, rest: DocumentPath): unknown {
  const [segment, ...more] = rest
  if (Array.isArray(data) && typeof segment === 'number') {
    return more.length === 0 ? data.filter((_, i) => i !== segment) : data.map((item, i) => (i === segment ? deleteIn(item, more) : item))
  }
  if (isRecord(data)) {
    const copy = { ...data }
    if (more.length === 0) delete copy[String(segment)]
    else copy[String(segment)] = deleteIn(copy[String(segment)], more)
    return copy
  }
  return data
}

function formatPath(path: DocumentPath): string {
  return path.map((segment, i) => (typeof segment === 'number' ? `[${segment}]` : i === 0 ? segment : `.${segment}`)).join('') || '(the document)'
}

const plainCache = new Map<string, boolean>()

/**
 * Whether `text` can be written without quotes: YAML must read it back as the same string as a list item, inside a
 * flow list and as a key (the parser decides, not a list of indicator rules).
 */
function plainAllowed(text: string, flow: boolean, key: boolean): boolean {
  if (text === '' || text !== text.trim() || /[\r\n\t\p{Cc}\p{Cs}\ufeff]/u.test(text)) return false
  const cacheKey = `${flow ? 'f' : 'b'}${key ? 'k' : 'v'}${text}`
  const known = plainCache.get(cacheKey)
  if (known !== undefined) return known
  const reads = (source: string, expected: unknown): boolean => {
    const doc = parseDocument(source, { prettyErrors: false })
    if (doc.errors.length > 0 || doc.warnings.length > 0) return false
    try {
      return deepEqual(doc.toJS(), expected)
    } catch {
      // An alias (`*x`) with no anchor.
      return false
    }
  }
  // `<<` is a merge key when plain.
  const ok = key && text === '<<' ? false : key
    ? reads(`${text}: 0`, { [text]: 0 }) && (!flow || reads(`{${text}: 0}`, { [text]: 0 }))
    : reads(`- ${text}`, [text]) && reads(`k: ${text}`, { k: text }) && (!flow || reads(`[${text}]`, [text]))
  if (plainCache.size > 10_000) plainCache.clear()
  plainCache.set(cacheKey, ok)
  return ok
}

/** Printable in YAML without escapes, and no line break (a single-quoted scalar would fold it). */
const SINGLE_QUOTABLE = /^[^\p{Cc}\p{Cs}\u0085\ufeff\ufffe\uffff]*$/u

/** A double-quoted YAML scalar: JSON's escapes, which YAML shares, plus YAML's non-printable characters. */
function doubleQuote(text: string): string {
  return JSON.stringify(text).replace(/[\u007f-\u009f\ufeff\ufffe\uffff]/g, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** A plain scalar's value as YAML's core schema reads it (for a scalar whose tag the schema does not know). */
function resolvePlain(text: string): unknown {
  const doc = parseDocument(text, { prettyErrors: false })
  const node = doc.contents
  return doc.errors.length === 0 && isScalar(node) && node.type === 'PLAIN' ? node.value : text
}
