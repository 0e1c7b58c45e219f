import { posix } from 'node:path'
import { AGENT_SCRIPT } from '../agent.js'

/*
 * A reader of sudoers policy as sudo 1.9 applies it, to tell whether an image lets its app user become root through
 * anything but the agent script with no arguments. Section names in the comments are those of sudoers(5) (sudo
 * 1.9.13p3, Debian 12), e.g. sudoers(5) "Including other files from within sudoers".
 */

/** The app user: a name, a uid, or both. sudoers matches `name` by name and `#uid` by uid, so give both when known. */
export interface SudoUser {
  name?: string
  uid?: number
}

export type SudoersHitKind =
  /** ALL as the command */
  | 'all'
  /** the agent script with any arguments, or specific ones: it execs them as root */
  | 'agent-arguments'
  /** a glob or a regular expression in the command: matches more than the script */
  | 'wildcard'
  /** a directory: any program in it */
  | 'directory'
  /** sudoedit: edit files as root */
  | 'sudoedit'
  /** a shell or interpreter */
  | 'shell'
  /** an editor or pager, which opens a shell */
  | 'editor'
  /** any other program */
  | 'command'
  /** the caller may set the command's environment (SETENV, `setenv`: what `sudo -E` needs) */
  | 'setenv'
  /** variables that decide what runs (PATH, LD_PRELOAD, …) pass from the caller to the root command */
  | 'environment'

export interface SudoersHit {
  file: string
  line: number
  kind: SudoersHitKind
  /** The entry as written: continuation lines joined, comment dropped. */
  entry: string
  /** The item of the entry's user list that makes it apply to the user: `%sudo`, `ALL`, `#101`, an alias. */
  via: string
  detail: string
  /** False when NOPASSWD (or `!authenticate`) lets it run without a password: app users seldom have one. */
  passwordRequired: boolean
}

export interface SudoersProblem {
  file: string
  line?: number
  message: string
}

/** Files of an image by absolute path (`/etc/sudoers`, `/etc/sudoers.d/…`); `root` is where sudo starts reading. */
export function readSudoers(files: ReadonlyMap<string, string> | Readonly<Record<string, string>>, root = '/etc/sudoers'): Sudoers {
  const entries = files instanceof Map ? [...files.entries()] : Object.entries(files)
  const reader = new Reader(new Map(entries.map(([path, text]) => [posix.normalize(path), text])))
  reader.file(posix.normalize(root), 0)
  return new Sudoers(reader.specs, reader.defaults, reader.aliases, reader.problems)
}

// ---------------------------------------------------------------------------------------------------------------------
// The parsed policy

interface Source {
  file: string
  line: number
  entry: string
  /** Position in reading order, includes expanded: what "the last match" and hit order go by. */
  order: number
}

interface Negatable<T> {
  negated: boolean
  item: T
  /** As written, for messages. */
  text: string
}

/** A user, group, host or runas target of a list (sudoers(5) "Aliases": User_List, Runas_List, Host_List). */
type Principal =
  | { type: 'all' }
  | { type: 'alias'; name: string }
  | { type: 'name'; name: string }
  | { type: 'id'; id: number }
  | { type: 'group'; name: string }
  | { type: 'gid'; id: number }
  /** netgroups and non-Unix groups: an image's files cannot tell their members */
  | { type: 'unknown' }

/** A Cmnd (sudoers(5) "Aliases": Cmnd_List); `path` keeps its escapes, `args` is undefined when any are allowed. */
type Command =
  | { type: 'all' }
  | { type: 'alias'; name: string }
  | { type: 'list' }
  | { type: 'sudoedit' }
  | { type: 'path'; path: string; args?: string }

interface CmndSpec {
  /** Absent: runas_default (root); an empty user list: the invoking user (sudoers(5) "Runas_Spec"). */
  runas?: { users: Negatable<Principal>[] }
  passwd?: boolean
  setenv?: boolean
  command: Negatable<Command>
}

interface UserSpec {
  source: Source
  users: Negatable<Principal>[]
  privileges: { hosts: Negatable<Principal>[]; commands: CmndSpec[] }[]
}

type DefaultsScope =
  | { type: 'global' }
  | { type: 'host'; list: Negatable<Principal>[] }
  | { type: 'user'; list: Negatable<Principal>[] }
  | { type: 'runas'; list: Negatable<Principal>[] }
  | { type: 'command'; list: Negatable<Command>[] }

interface DefaultsParam {
  name: string
  op: '=' | '+=' | '-=' | 'flag'
  /** For a flag: false when negated with `!`. */
  enabled: boolean
  value?: string
}

interface DefaultsEntry {
  source: Source
  scope: DefaultsScope
  params: DefaultsParam[]
}

type AliasKind = 'User' | 'Runas' | 'Host' | 'Cmnd'

interface Aliases {
  User: Map<string, Negatable<Principal>[]>
  Runas: Map<string, Negatable<Principal>[]>
  Host: Map<string, Negatable<Principal>[]>
  Cmnd: Map<string, Negatable<Command>[]>
}

// ---------------------------------------------------------------------------------------------------------------------
// Reading files: comments, continuation lines, includes

// sudoers(5) "Including other files from within sudoers": a hard limit of 128 nested include files.
const MAX_INCLUDE_DEPTH = 128

class Reader {
  readonly specs: UserSpec[] = []
  readonly defaults: DefaultsEntry[] = []
  readonly aliases: Aliases = { User: new Map(), Runas: new Map(), Host: new Map(), Cmnd: new Map() }
  readonly problems: SudoersProblem[] = []
  private order = 0

  constructor(private readonly files: ReadonlyMap<string, string>) {}

  file(path: string, depth: number): void {
    if (depth > MAX_INCLUDE_DEPTH) {
      this.problems.push({ file: path, message: `more than ${MAX_INCLUDE_DEPTH} nested includes: sudo stops here` })
      return
    }
    const text = this.files.get(path)
    if (text === undefined) {
      this.problems.push({ file: path, message: 'not among the files given: nothing read from it' })
      return
    }
    for (const { line, text: entry } of logicalLines(text)) {
      const include = /^[ \t]*[@#]include(dir)?[ \t]+(.*)$/.exec(entry)
      if (include) {
        this.include(path, line, include[2], include[1] !== undefined, depth)
        continue
      }
      const source: Source = { file: path, line, entry: entry.trim(), order: this.order++ }
      try {
        this.entry(source)
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error
        // sudo's error_recovery (on by default) skips the entry in error and goes on.
        this.problems.push({ file: path, line, message: `not a sudoers entry (${error.message}): skipped` })
      }
    }
  }

  private include(from: string, line: number, argument: string, directory: boolean, depth: number): void {
    const target = includePath(argument)
    if (target.includes('%h')) {
      this.problems.push({ file: from, line, message: `${target} names the host (%h), which an image does not know: not read` })
      return
    }
    // sudoers(5): a path that is not fully qualified is in the directory of the file that includes it.
    const path = posix.normalize(target.startsWith('/') ? target : posix.join(posix.dirname(from), target))
    if (!directory) {
      this.file(path, depth + 1)
      return
    }
    // sudoers(5): each file in the directory, "skipping file names that end in '~' or contain a '.' character",
    // "parsed in sorted lexical order".
    const names = [...this.files.keys()]
      .filter(file => posix.dirname(file) === path)
      .map(file => posix.basename(file))
      .filter(name => !name.includes('.') && !name.endsWith('~'))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    for (const name of names) this.file(posix.join(path, name), depth + 1)
  }

  private entry(source: Source): void {
    const scanner = new Scanner(source.entry)
    const alias = scanner.match(/(User_Alias|Runas_Alias|Host_Alias|Cmnd_Alias|Cmd_Alias)(?=[ \t])/y)
    if (alias) {
      const kind = alias[1].split('_')[0] as AliasKind | 'Cmd'
      this.alias(scanner, source, kind === 'Cmd' ? 'Cmnd' : kind)
    } else if (scanner.match(/Defaults(?=[@:!> \t]|$)/y)) {
      this.defaults.push(parseDefaults(scanner, source))
    } else {
      this.specs.push(parseUserSpec(scanner, source))
    }
  }

  private alias(scanner: Scanner, source: Source, kind: AliasKind): void {
    // sudoers(5) "Aliases": NAME = item, … (':' NAME = item, …)*; redefining one is a syntax error.
    do {
      const name = scanner.match(/[A-Z][A-Z0-9_]*/y)?.[0]
      if (!name || !scanner.eat('=')) scanner.fail('expected NAME = …')
      const members = kind === 'Cmnd' ? scanner.list(() => scanner.command()) : scanner.list(() => scanner.principal())
      const table = this.aliases[kind] as Map<string, unknown>
      if (table.has(name)) this.problems.push({ file: source.file, line: source.line, message: `${kind}_Alias ${name} defined again: ignored` })
      else table.set(name, members)
    } while (scanner.eat(':'))
    scanner.end()
  }
}

/**
 * The entries of a file, each with the line it starts on: comments dropped, lines ending in `\` joined to the next
 * (sudoers(5) "Other special characters and reserved words").
 */
function logicalLines(text: string): { line: number; text: string }[] {
  const lines: { line: number; text: string }[] = []
  let pending: { line: number; text: string } | undefined
  text.split(/\r?\n/).forEach((raw, index) => {
    const { code, comment } = stripComment(raw, pending === undefined)
    const continued = !comment && /(^|[^\\])(\\\\)*\\[ \t]*$/.test(code)
    const part = continued ? code.replace(/\\[ \t]*$/, ' ') : code
    pending = pending ? { line: pending.line, text: pending.text + part } : { line: index + 1, text: part }
    if (continued) return
    if (pending.text.trim() !== '') lines.push(pending)
    pending = undefined
  })
  if (pending && pending.text.trim() !== '') lines.push(pending)
  return lines
}

/**
 * Cuts a line at its comment. `#` starts one unless it begins an `#include`/`#includedir` directive or is followed by
 * digits (`#101` is a user-ID), or sits inside double quotes or after a backslash.
 */
function stripComment(raw: string, startsEntry: boolean): { code: string; comment: boolean } {
  let quoted = false
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]
    if (c === '\\') i++
    else if (c === '"') quoted = !quoted
    else if (c === '#' && !quoted) {
      if (startsEntry && raw.slice(0, i).trim() === '' && /^#include(dir)?[ \t]/.test(raw.slice(i))) return { code: raw, comment: false }
      if (/^#-?[0-9]/.test(raw.slice(i))) continue
      return { code: raw.slice(0, i), comment: true }
    }
  }
  return { code: raw, comment: false }
}

/** The path of an include directive: double-quoted, or with `\` escaping spaces (sudoers(5), since 1.9.1). */
function includePath(argument: string): string {
  const text = argument.trim()
  if (text.startsWith('"')) return text.slice(1, text.indexOf('"', 1) > 0 ? text.indexOf('"', 1) : undefined)
  let path = ''
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && i + 1 < text.length) path += text[++i]
    else if (text[i] === ' ' || text[i] === '\t') break
    else path += text[i]
  }
  return path
}

// ---------------------------------------------------------------------------------------------------------------------
// Parsing one entry

const NAME_STOPS = ' \t,:=()'

class Scanner {
  private i = 0

  constructor(private readonly s: string) {}

  fail(message: string): never {
    throw new SyntaxError(`${message} at column ${this.i + 1}`)
  }

  ws(): void {
    while (this.s[this.i] === ' ' || this.s[this.i] === '\t') this.i++
  }

  peek(): string {
    this.ws()
    return this.s[this.i] ?? ''
  }

  eat(text: string): boolean {
    this.ws()
    if (!this.s.startsWith(text, this.i)) return false
    this.i += text.length
    return true
  }

  /** `pattern` must be sticky (`y`). */
  match(pattern: RegExp): RegExpExecArray | null {
    this.ws()
    pattern.lastIndex = this.i
    const found = pattern.exec(this.s)
    if (found) this.i += found[0].length
    return found
  }

  end(): void {
    if (this.peek() !== '') this.fail(`unexpected "${this.s.slice(this.i, this.i + 20)}"`)
  }

  /** A name or value: double-quoted, or up to a stop character, with `\x` and `\xHH` escapes resolved. */
  word(stops = NAME_STOPS): string {
    this.ws()
    let out = ''
    if (this.s[this.i] === '"') {
      const close = this.s.indexOf('"', this.i + 1)
      if (close < 0) this.fail('unterminated quote')
      out = this.s.slice(this.i + 1, close).replace(/\\(.)/g, '$1')
      this.i = close + 1
      return out
    }
    while (this.i < this.s.length) {
      const c = this.s[this.i]
      if (c === '\\') {
        const hex = /^\\x([0-9a-fA-F]{2})/.exec(this.s.slice(this.i))
        out += hex ? String.fromCharCode(parseInt(hex[1], 16)) : (this.s[this.i + 1] ?? '')
        this.i += hex ? 4 : 2
        continue
      }
      if (stops.includes(c)) break
      out += c
      this.i++
    }
    return out
  }

  /** Like `word`, but keeps the escapes: what a command path needs to tell `\*` from a wildcard. */
  rawWord(stops: string): string {
    this.ws()
    const start = this.i
    while (this.i < this.s.length && !stops.includes(this.s[this.i])) this.i += this.s[this.i] === '\\' ? 2 : 1
    return this.s.slice(start, this.i)
  }

  /** An odd number of `!` negates (sudoers(5) "Aliases"). */
  negation(): boolean {
    let count = 0
    while (this.eat('!')) count++
    return count % 2 === 1
  }

  list<T>(item: () => Negatable<T>): Negatable<T>[] {
    const items = [item()]
    while (this.eat(',')) items.push(item())
    return items
  }

  /** A User, Runas_Member or Host of a list. */
  principal(): Negatable<Principal> {
    const start = this.i
    const negated = this.negation()
    const name = this.word()
    if (name === '') this.fail('expected a user, group, host or alias')
    const text = this.s.slice(start, this.i).trim()
    let item: Principal
    if (name === 'ALL') item = { type: 'all' }
    else if (name.startsWith('%:') || name.startsWith('+')) item = { type: 'unknown' }
    else if (/^%#\d+$/.test(name)) item = { type: 'gid', id: Number(name.slice(2)) }
    else if (name.startsWith('%')) item = { type: 'group', name: name.slice(1) }
    else if (/^#\d+$/.test(name)) item = { type: 'id', id: Number(name.slice(1)) }
    else if (/^[A-Z][A-Z0-9_]*$/.test(name)) item = { type: 'alias', name }
    else item = { type: 'name', name }
    return { negated, item, text }
  }

  /** A Cmnd: Digest_List? '!'* (ALL | list | sudoedit args | path args | regex args | Cmnd_Alias). */
  command(): Negatable<Command> {
    // A Digest_List pins the command's contents, not what it may do: read and dropped.
    while (this.match(/sha(224|256|384|512)[ \t]*:/y)) {
      this.word(' \t,:')
      if (!this.match(/,(?=[ \t]*sha(224|256|384|512)[ \t]*:)/y)) break
    }
    const start = this.i
    const negated = this.negation()
    const text = () => this.s.slice(start, this.i).trim()
    if (this.match(/ALL(?=$|[ \t,:])/y)) return { negated, item: { type: 'all' }, text: text() }
    if (this.match(/list(?=$|[ \t,:])/y)) return { negated, item: { type: 'list' }, text: text() }
    if (this.match(/sudoedit(?=$|[ \t,:])/y)) {
      this.args()
      return { negated, item: { type: 'sudoedit' }, text: text() }
    }
    const c = this.peek()
    if (c === '/' || c === '^') {
      const path = c === '^' ? this.regex() : this.rawWord(' \t,:=')
      // sudoers(5): a leading path on sudoedit "will be silently converted to sudoedit".
      if (posix.basename(path) === 'sudoedit') {
        this.args()
        return { negated, item: { type: 'sudoedit' }, text: text() }
      }
      const args = this.args()
      return { negated, item: { type: 'path', path, ...(args !== undefined ? { args } : {}) }, text: text() }
    }
    const alias = this.match(/[A-Z][A-Z0-9_]*(?=$|[ \t,:])/y)
    if (alias) return { negated, item: { type: 'alias', name: alias[0] }, text: text() }
    return this.fail('expected a command: a full path, ALL or a Cmnd_Alias')
  }

  /**
   * A command's arguments up to the next unescaped `,` or `:`: undefined when none are written (any are allowed),
   * `""` when no arguments are allowed (sudoers(5) "Exceptions to wildcard rules").
   */
  private args(): string | undefined {
    this.ws()
    if (this.s[this.i] === '^') return this.regex()
    let out = ''
    while (this.i < this.s.length) {
      const c = this.s[this.i]
      if (c === ',' || c === ':') break
      if (c === '\\' && this.i + 1 < this.s.length) {
        out += this.s[this.i + 1]
        this.i += 2
        continue
      }
      out += c
      this.i++
    }
    const args = out.trim().replace(/[ \t]+/g, ' ')
    return args === '' ? undefined : args
  }

  /** A regular expression `^…$` (sudoers(5) "Regular expressions": only `#` needs escaping inside). */
  private regex(): string {
    const end = /\$(?=$|[ \t,:])/g
    end.lastIndex = this.i
    const found = end.exec(this.s)
    if (!found) this.fail('a regular expression must end with $')
    const regex = this.s.slice(this.i, found.index + 1)
    this.i = found.index + 1
    return regex
  }
}

/** User_Spec ::= User_List Host_List '=' Cmnd_Spec_List (':' Host_List '=' Cmnd_Spec_List)* (sudoers(5) "User specification"). */
function parseUserSpec(scanner: Scanner, source: Source): UserSpec {
  const users = scanner.list(() => scanner.principal())
  const privileges: UserSpec['privileges'] = []
  do {
    const hosts = scanner.list(() => scanner.principal())
    if (!scanner.eat('=')) scanner.fail("expected '=' after the host list")
    privileges.push({ hosts, commands: parseCmndSpecs(scanner) })
  } while (scanner.eat(':'))
  scanner.end()
  return { source, users, privileges }
}

/**
 * Cmnd_Spec ::= Runas_Spec? Option_Spec* (Tag_Spec ':')* Cmnd. A Runas_Spec, an option and a tag carry over to the
 * Cmnds after it in the list (sudoers(5) "Runas_Spec", "Tag_Spec").
 */
function parseCmndSpecs(scanner: Scanner): CmndSpec[] {
  const specs: CmndSpec[] = []
  let runas: CmndSpec['runas']
  let passwd: boolean | undefined
  let setenv: boolean | undefined
  do {
    if (scanner.eat('(')) runas = parseRunas(scanner)
    for (;;) {
      if (scanner.match(/(ROLE|TYPE|TIMEOUT|CWD|CHROOT|NOTBEFORE|NOTAFTER|APPARMOR_PROFILE)[ \t]*=/y)) {
        scanner.word(' \t,:')
        continue
      }
      const tag = scanner.match(/(NO)?(EXEC|FOLLOW|LOG_INPUT|LOG_OUTPUT|MAIL|INTERCEPT|PASSWD|SETENV)[ \t]*:/y)
      if (!tag) break
      if (tag[2] === 'PASSWD') passwd = tag[1] === undefined
      if (tag[2] === 'SETENV') setenv = tag[1] === undefined
    }
    specs.push({ ...(runas ? { runas } : {}), passwd, setenv, command: scanner.command() })
  } while (scanner.eat(','))
  return specs
}

/** Runas_Spec ::= '(' Runas_List? (':' Runas_List)? ')'; only the user list decides whether it is root. */
function parseRunas(scanner: Scanner): NonNullable<CmndSpec['runas']> {
  const next = scanner.peek()
  const users = next === ':' || next === ')' ? [] : scanner.list(() => scanner.principal())
  if (scanner.eat(':') && scanner.peek() !== ')') scanner.list(() => scanner.principal())
  if (!scanner.eat(')')) scanner.fail("expected ')'")
  return { users }
}

/** Default_Entry ::= Default_Type Parameter_List (sudoers(5) "Defaults"). */
function parseDefaults(scanner: Scanner, source: Source): DefaultsEntry {
  // The scope's sigil follows `Defaults` directly; a blank means the entry is global.
  const sigil = /^Defaults([@:!>])/.exec(source.entry)?.[1]
  let scope: DefaultsScope = { type: 'global' }
  if (sigil) {
    scanner.eat(sigil)
    if (sigil === '!') scope = { type: 'command', list: scanner.list(() => defaultsCommand(scanner)) }
    else scope = { type: sigil === '@' ? 'host' : sigil === ':' ? 'user' : 'runas', list: scanner.list(() => scanner.principal()) }
  }
  const params: DefaultsParam[] = []
  do {
    const enabled = !scanner.negation()
    const name = scanner.match(/[A-Za-z_][A-Za-z0-9_]*/y)?.[0]
    if (!name) scanner.fail('expected a Defaults parameter')
    const op = scanner.match(/\+=|-=|=/y)?.[0] as DefaultsParam['op'] | undefined
    if (op) params.push({ name, op, enabled: true, value: scanner.word(' \t,') })
    else params.push({ name, op: 'flag', enabled })
  } while (scanner.eat(','))
  scanner.end()
  return { source, scope, params }
}

/** A command of `Defaults!`: a path, ALL or an alias, never arguments (sudoers(5) "Defaults"). */
function defaultsCommand(scanner: Scanner): Negatable<Command> {
  const negated = scanner.negation()
  const word = scanner.rawWord(' \t,')
  if (word === 'ALL') return { negated, item: { type: 'all' }, text: word }
  if (/^[A-Z][A-Z0-9_]*$/.test(word)) return { negated, item: { type: 'alias', name: word }, text: word }
  if (word.startsWith('/') || word.startsWith('^')) return { negated, item: { type: 'path', path: word }, text: word }
  return scanner.fail('expected a command after Defaults!')
}

// ---------------------------------------------------------------------------------------------------------------------
// Answering: what can the user run as root?

interface Identity {
  name?: string
  uid?: number
  groups: ReadonlySet<string>
  gids: ReadonlySet<number>
}

const ROOT: Identity = { name: 'root', uid: 0, groups: new Set(['root']), gids: new Set([0]) }

/**
 * sudo's compiled-in env_keep list (plugins/sudoers/env.c, initial_keepenv_table, 1.9): PATH is among them, so the
 * caller's PATH reaches the command unless secure_path replaces it.
 */
const DEFAULT_ENV_KEEP = [
  'COLORS',
  'DISPLAY',
  'HOSTNAME',
  'KRB5CCNAME',
  'LS_COLORS',
  'PATH',
  'PS1',
  'PS2',
  'XAUTHORITY',
  'XAUTHORIZATION',
  'XDG_CURRENT_DESKTOP'
]

/**
 * Variables that change what a root shell script or a dynamically linked program runs or loads. The agent script is
 * a /bin/sh script that runs whoami, uname, awk, curl… by name, so the caller's PATH alone is enough to get root.
 * (glibc drops LD_* from set-user-ID sudo's own environment before sudo starts, sudoers(5) "Command environment";
 * a rule that keeps them still asks for them, and not every loader does that.)
 */
const DANGEROUS_VARIABLES = [
  'PATH',
  'LD_PRELOAD',
  'LD_LIBRARY_PATH',
  'LD_AUDIT',
  'BASH_ENV',
  'ENV',
  'SHELLOPTS',
  'BASHOPTS',
  'PS4',
  'IFS',
  'HOME',
  'GCONV_PATH',
  'NLSPATH'
]

const SHELLS = /^(sh|bash|dash|ash|zsh|ksh|mksh|csh|tcsh|fish|busybox|su|sudo|env|script|python[0-9.]*|perl[0-9.]*|ruby[0-9.]*|node|lua[0-9.]*|php[0-9.]*)$/
const EDITORS = /^(vi|vim|vim\.basic|vim\.tiny|nvim|view|rvim|ex|ed|red|nano|rnano|pico|emacs|mg|joe|less|more|most|man|pg)$/

interface Settings {
  envReset: { value: boolean; source?: Source }
  setenv: { value: boolean; source?: Source }
  securePath: { value?: string; source?: Source }
  envKeep: { pattern: string; source?: Source }[]
  exemptGroup?: string
  authenticate: boolean
}

export class Sudoers {
  constructor(
    private readonly specs: readonly UserSpec[],
    private readonly defaults: readonly DefaultsEntry[],
    private readonly aliases: Aliases,
    /** Entries sudo would skip or could not be read; what was read is still answered for. */
    readonly problems: readonly SudoersProblem[]
  ) {}

  /**
   * Every rule that lets `user` (with `groups`: names, or gids as digits) run as root anything beyond exactly the
   * agent script with no arguments: in reading order, each with its file and line. Empty for the action's own rule
   * in a sudoers that replaces the caller's PATH (secure_path), as Debian's does.
   */
  broaderThanAgent(user: string | SudoUser, groups: readonly string[] = []): SudoersHit[] {
    const identity = toIdentity(user, groups)
    const hits: { hit: SudoersHit; order: number }[] = []
    const add = (source: Source, kind: SudoersHitKind, via: string, detail: string, passwordRequired: boolean) =>
      hits.push({ hit: { file: source.file, line: source.line, kind, entry: source.entry, via, detail, passwordRequired }, order: source.order })

    const base = this.settings(identity)
    const agent = this.settings(identity, AGENT_SCRIPT)
    const exempt = base.exemptGroup !== undefined && identity.groups.has(base.exemptGroup)
    const runasDefault = this.runasDefault()

    for (const spec of this.specs) {
      const who = this.listMatch(spec.users, 'User', principal => matchesIdentity(principal, identity))
      if (!who?.result) continue
      for (const privilege of spec.privileges) {
        if (!this.listMatch(privilege.hosts, 'Host', mayBeThisHost)?.result) continue
        for (const command of privilege.commands) {
          if (!this.runsAsRoot(command, runasDefault)) continue
          for (const { item } of this.expand(command.command).filter(entry => !entry.negated)) {
            const exact = item.type === 'path' && !item.path.startsWith('^') && !hasWildcard(item.path) ? unescape(item.path) : undefined
            const isAgent = exact === AGENT_SCRIPT
            const settings = exact === undefined ? base : isAgent ? agent : this.settings(identity, exact)
            const passwordRequired = !exempt && (command.passwd ?? settings.authenticate)
            if (isAgent && item.type === 'path' && item.args === '""') {
              this.agentEnvironment(spec.source, who.item.text, command, settings, exempt, passwordRequired, add)
              continue
            }
            const found = classify(item)
            if (found) add(spec.source, found.kind, who.item.text, found.detail, passwordRequired)
          }
        }
      }
    }

    const seen = new Set<string>()
    return hits
      .sort((a, b) => a.order - b.order)
      .map(({ hit }) => hit)
      .filter(hit => {
        const key = `${hit.file}:${hit.line}:${hit.kind}:${hit.detail}`
        if (seen.has(key)) return false
        seen.add(key)
        return true
      })
  }

  /** What the narrow rule still lets through: a caller-set environment for a root shell script. */
  private agentEnvironment(
    grant: Source,
    via: string,
    command: CmndSpec,
    settings: Settings,
    exempt: boolean,
    passwordRequired: boolean,
    add: (source: Source, kind: SudoersHitKind, via: string, detail: string, passwordRequired: boolean) => void
  ): void {
    // sudoers(5) "SETENV and NOSETENV": with SETENV (or the setenv flag) the caller may use -E and VAR=value.
    if (command.setenv ?? settings.setenv.value) {
      const source = command.setenv ? grant : (settings.setenv.source ?? grant)
      const detail = 'the caller may set any variable for the agent script (SETENV / setenv: sudo -E, VAR=value), PATH and LD_PRELOAD included'
      add(source, 'setenv', via, detail, passwordRequired)
    }
    // sudoers(5) "Command environment": with env_reset off, all but env_delete's list passes.
    if (!settings.envReset.value) {
      const detail = "env_reset is off: the caller's environment, PATH included, reaches the agent script run as root"
      add(settings.envReset.source ?? grant, 'environment', via, detail, passwordRequired)
      return
    }
    // sudoers(5) exempt_group: its members are exempt from secure_path.
    const securePath = settings.securePath.value !== undefined && !exempt
    for (const keep of settings.envKeep) {
      const name = keep.pattern.split('=')[0]
      const passed = DANGEROUS_VARIABLES.filter(variable => envPatternMatches(name, variable) && !(variable === 'PATH' && securePath))
      if (passed.length === 0) continue
      if (keep.source) {
        add(keep.source, 'environment', via, `env_keep passes ${passed.join(', ')} from the caller to the agent script run as root`, passwordRequired)
      } else {
        add(
          grant,
          'environment',
          via,
          "no secure_path: sudo keeps the caller's PATH (its built-in env_keep), and the agent script, run as root, runs whoami, awk, curl… from it",
          passwordRequired
        )
      }
    }
  }

  /** Defaults as sudo applies them: global, host, user and runas entries in order, then command entries for `command`. */
  private settings(identity: Identity, command?: string): Settings {
    const settings: Settings = {
      envReset: { value: true },
      setenv: { value: false },
      securePath: {},
      envKeep: DEFAULT_ENV_KEEP.map(pattern => ({ pattern })),
      authenticate: true
    }
    const applies = (scope: DefaultsScope): boolean => {
      switch (scope.type) {
        case 'global':
          return true
        case 'host':
          return !!this.listMatch(scope.list, 'Host', mayBeThisHost)?.result
        case 'user':
          return !!this.listMatch(scope.list, 'User', principal => matchesIdentity(principal, identity))?.result
        case 'runas':
          return !!this.listMatch(scope.list, 'Runas', principal => matchesIdentity(principal, ROOT))?.result
        case 'command':
          return false
      }
    }
    const generic = this.defaults.filter(entry => applies(entry.scope))
    const forCommand =
      command === undefined ? [] : this.defaults.filter(entry => entry.scope.type === 'command' && this.commandListMatches(entry.scope.list, command))
    for (const entry of [...generic, ...forCommand]) {
      for (const param of entry.params) apply(settings, param, entry.source)
    }
    return settings
  }

  /** runas_default, which sudo reads before all other Defaults (sudoers(5) "Defaults"). */
  private runasDefault(): string {
    let target = 'root'
    for (const entry of this.defaults) {
      if (entry.scope.type !== 'global') continue
      for (const param of entry.params) if (param.name === 'runas_default' && param.op === '=' && param.value) target = param.value
    }
    return target
  }

  private runsAsRoot(command: CmndSpec, runasDefault: string): boolean {
    if (!command.runas) return runasDefault === 'root' || runasDefault === '#0'
    return !!this.listMatch(command.runas.users, 'Runas', principal => matchesIdentity(principal, ROOT))?.result
  }

  /**
   * sudo's list matching: from the last item back, the first that matches decides (allowed, or denied when negated);
   * none: the list does not match. An alias answers with its own list's verdict.
   */
  private listMatch(
    list: readonly Negatable<Principal>[],
    kind: Exclude<AliasKind, 'Cmnd'>,
    matches: (principal: Principal, negated: boolean) => boolean,
    negated = false,
    seen: ReadonlySet<string> = new Set()
  ): { result: boolean; item: Negatable<Principal> } | undefined {
    for (let index = list.length - 1; index >= 0; index--) {
      const member = list[index]
      if (member.item.type === 'alias') {
        const members = this.aliases[kind].get(member.item.name)
        if (!members || seen.has(member.item.name)) continue
        const inner = this.listMatch(members, kind, matches, negated !== member.negated, new Set([...seen, member.item.name]))
        if (inner) return { result: member.negated ? !inner.result : inner.result, item: member }
        continue
      }
      if (matches(member.item, negated !== member.negated)) return { result: !member.negated, item: member }
    }
    return undefined
  }

  /** Cmnd_Aliases replaced by their commands, negations carried through. */
  private expand(command: Negatable<Command>, seen: ReadonlySet<string> = new Set()): Negatable<Command>[] {
    if (command.item.type !== 'alias') return [command]
    const members = this.aliases.Cmnd.get(command.item.name)
    if (!members || seen.has(command.item.name)) return []
    const inner = new Set([...seen, command.item.name])
    return members.flatMap(member => this.expand(member, inner)).map(entry => ({ ...entry, negated: entry.negated !== command.negated }))
  }

  private commandListMatches(list: readonly Negatable<Command>[], path: string): boolean {
    const expanded = list.flatMap(entry => this.expand(entry))
    for (let index = expanded.length - 1; index >= 0; index--) {
      const { item, negated } = expanded[index]
      if (item.type === 'all' || (item.type === 'path' && pathMatches(item.path, path))) return !negated
    }
    return false
  }
}

function toIdentity(user: string | SudoUser, groups: readonly string[]): Identity {
  let identity: SudoUser = typeof user === 'string' ? {} : user
  if (typeof user === 'string') {
    const name = user.trim().split(':')[0]
    identity = /^\d+$/.test(name) ? { uid: Number(name) } : { name }
  }
  return {
    ...identity,
    groups: new Set(groups.filter(group => !/^\d+$/.test(group))),
    gids: new Set(groups.filter(group => /^\d+$/.test(group)).map(Number))
  }
}

/** An image cannot know the host name ECS gives the task: a named host may be it, a negated one is not counted on. */
function mayBeThisHost(principal: Principal, negated: boolean): boolean {
  return principal.type === 'all' || !negated
}

function matchesIdentity(principal: Principal, identity: Identity): boolean {
  switch (principal.type) {
    case 'all':
      return true
    case 'name':
      return principal.name === identity.name
    case 'id':
      return principal.id === identity.uid
    case 'group':
      return identity.groups.has(principal.name)
    case 'gid':
      return identity.gids.has(principal.id)
    default:
      return false
  }
}

function apply(settings: Settings, param: DefaultsParam, source: Source): void {
  const words = (param.value ?? '').split(/[ \t]+/).filter(Boolean)
  switch (param.name) {
    case 'env_reset':
      if (param.op === 'flag') settings.envReset = { value: param.enabled, source }
      break
    case 'setenv':
      if (param.op === 'flag') settings.setenv = { value: param.enabled, source }
      break
    case 'secure_path':
      settings.securePath = param.op === '=' && param.value ? { value: param.value, source } : param.op === 'flag' && !param.enabled ? {} : settings.securePath
      break
    case 'env_keep':
      // sudoers(5) env_keep: "replaced, added to, deleted from, or disabled by using the '=', '+=', '-=', and '!' operators".
      if (param.op === '=') settings.envKeep = words.map(pattern => ({ pattern, source }))
      else if (param.op === '+=') settings.envKeep = [...settings.envKeep, ...words.map(pattern => ({ pattern, source }))]
      else if (param.op === '-=') settings.envKeep = settings.envKeep.filter(entry => !words.includes(entry.pattern))
      else if (!param.enabled) settings.envKeep = []
      break
    case 'exempt_group':
      settings.exemptGroup = param.op === '=' ? param.value?.replace(/^%/, '') : param.enabled ? settings.exemptGroup : undefined
      break
    case 'authenticate':
      if (param.op === 'flag') settings.authenticate = param.enabled
      break
  }
}

/** How a command other than the agent script with no arguments widens what the user may run as root. */
function classify(item: Command): { kind: SudoersHitKind; detail: string } | undefined {
  switch (item.type) {
    case 'all':
      return { kind: 'all', detail: 'runs any command as root' }
    case 'sudoedit':
      return { kind: 'sudoedit', detail: 'edits files as root (sudoedit)' }
    case 'list':
    case 'alias':
      return undefined
    case 'path': {
      const path = unescape(item.path)
      if (path === AGENT_SCRIPT) {
        const args = item.args === undefined ? 'any arguments' : `arguments ${item.args}`
        return { kind: 'agent-arguments', detail: `runs the agent script as root with ${args}, and it execs them` }
      }
      if (item.path.startsWith('^') || hasWildcard(item.path)) return { kind: 'wildcard', detail: `${item.path} matches more than the agent script` }
      if (path.endsWith('/')) return { kind: 'directory', detail: `runs any program in ${path} as root` }
      const name = posix.basename(path)
      if (SHELLS.test(name)) return { kind: 'shell', detail: `runs the shell or interpreter ${path} as root` }
      if (EDITORS.test(name)) return { kind: 'editor', detail: `runs ${path} as root, which can open a shell` }
      return { kind: 'command', detail: `runs ${path} as root` }
    }
  }
}

function hasWildcard(raw: string): boolean {
  return /(^|[^\\])(\\\\)*[*?[]/.test(raw)
}

function unescape(raw: string): string {
  return raw.replace(/\\(.)/g, '$1')
}

/**
 * Whether a sudoers command path matches `path`: a regular expression `^…$`, a glob (sudoers(5) "Wildcards": `/` is
 * not matched by wildcards in the path), a directory ending in `/`, or the path itself.
 */
function pathMatches(raw: string, path: string): boolean {
  if (raw.startsWith('^')) {
    try {
      return new RegExp(raw).test(path)
    } catch {
      return false
    }
  }
  if (hasWildcard(raw)) return globToRegExp(raw).test(path)
  const plain = unescape(raw)
  return plain.endsWith('/') ? posix.dirname(path) + '/' === plain : plain === path
}

function globToRegExp(glob: string): RegExp {
  let source = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]
    if (c === '\\' && i + 1 < glob.length) source += escapeRegExp(glob[++i])
    else if (c === '*') source += '[^/]*'
    else if (c === '?') source += '[^/]'
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2)
      if (close < 0) source += '\\['
      else {
        const body = glob.slice(i + 1, close)
        source += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`
        i = close
      }
    } else source += escapeRegExp(c)
  }
  return new RegExp(`^${source}$`)
}

/** sudoers(5) "Command environment": env patterns know only `*`, which matches zero or more characters. */
function envPatternMatches(pattern: string, variable: string): boolean {
  return new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`).test(variable)
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}
