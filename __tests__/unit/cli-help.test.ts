import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { CliHost, helpText, parseCommandLine, UsageError } from '../../src/adapters/hosts/cli-host.js'
import { FLAGS, VERSION } from '../../src/cli/help.generated.js'
import { helpFlags } from '../support/cli-help.js'

// The CLI's flags and --help come from action.yml through a generated file: it must be what the generator writes from
// today's action.yml (no drift), and the parser must take exactly those flags, with action.yml's defaults.

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const manifest = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, { description: string; default?: string }> }
const inputs = Object.entries(manifest.inputs)
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim()
// The documented rule: a default that is a workflow expression (`${{ github.token }}`) is no default on the command line.
const cliDefault = (value: string | undefined): string | undefined => (value === undefined || value.includes('${{') ? undefined : String(value))

describe('src/cli/help.generated.ts', () => {
  it('is what scripts/generate-cli-help.mjs writes from today\'s action.yml and package.json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lwf-cli-help-'))
    const fresh = join(dir, 'help.generated.ts')
    const run = spawnSync(process.execPath, [join(ROOT, 'scripts/generate-cli-help.mjs'), fresh], { encoding: 'utf8' })
    const text = readFileSync(fresh, 'utf8')
    rmSync(dir, { recursive: true, force: true })
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    const committed = readFileSync(join(ROOT, 'src/cli/help.generated.ts'), 'utf8')
    // A plain boolean, not a diff of two huge strings: the fix is always `npm run package`.
    expect({ drift: text !== committed, fix: 'npm run package' }).toEqual({ drift: false, fix: 'npm run package' })
  })

  it('has every action.yml input as a flag, in its order, and nothing else', () => {
    expect(FLAGS.map(flag => flag.name)).toEqual(inputs.map(([name]) => name))
  })

  it.each(inputs)('--%s: action.yml\'s description and default; boolean exactly when the default is true or false', (name, input) => {
    const flag = FLAGS.find(candidate => candidate.name === name)
    expect(flag).toEqual({
      name,
      description: oneLine(input.description),
      ...(cliDefault(input.default) === undefined ? {} : { default: cliDefault(input.default) }),
      boolean: input.default === 'true' || input.default === 'false'
    })
  })

  it('has no default for github-token: the workflow token does not exist outside a workflow', () => {
    expect(manifest.inputs['github-token'].default).toBe('${{ github.token }}')
    expect(FLAGS.find(flag => flag.name === 'github-token')?.default).toBeUndefined()
  })

  it('has package.json\'s version', () => {
    expect(VERSION).toBe(pkg.version)
  })
})

describe('--help', () => {
  const text = helpText()

  it('lists exactly action.yml\'s inputs with their descriptions and defaults', () => {
    const listed = helpFlags(text)
    expect([...listed.keys()]).toEqual(inputs.map(([name]) => name))
    for (const [name, input] of inputs) {
      const expected = cliDefault(input.default) === undefined ? { description: oneLine(input.description) } : { description: oneLine(input.description), default: cliDefault(input.default) }
      expect([name, listed.get(name)]).toEqual([name, expected])
    }
  })

  it('fits an 80-column terminal', () => {
    expect(text.split('\n').filter(line => line.length > 80)).toEqual([])
  })

  it('starts with the usage and names the exit codes', () => {
    expect(text.startsWith('usage: lacework-fargate ')).toBe(true)
    expect(text).toContain('0 success, 1 failure (the run failed), 2 usage error')
  })
})

describe('parseCommandLine', () => {
  const run = (...argv: string[]): Map<string, string> => {
    const command = parseCommandLine(argv)
    if (command.kind !== 'run') throw new Error(`expected a run, got ${command.kind}`)
    return command.flags
  }
  const usageError = (...argv: string[]): string => {
    try {
      parseCommandLine(argv)
    } catch (error) {
      if (error instanceof UsageError) return error.message
      throw error
    }
    throw new Error(`no usage error for ${argv.join(' ')}`)
  }

  it('takes --flag value and --flag=value', () => {
    const flags = run('--task-definition', 'a.json', '--mode=embedded', '--output=-')
    expect([flags.get('task-definition'), flags.get('mode'), flags.get('output')]).toEqual(['a.json', 'embedded', '-'])
  })

  it.each([
    [['--dry-run'], 'true'],
    [['--dry-run=false'], 'false'],
    [['--dry-run', 'false'], 'false'],
    [['--dry-run', 'TRUE'], 'true'],
    [['--dry-run', '--output', 'x.json'], 'true'],
    [['--output', 'x.json'], 'false']
  ])('boolean: %j makes dry-run %s', (argv, expected) => {
    expect(run('--task-definition', 'a.json', ...argv).get('dry-run')).toBe(expected)
  })

  it('fills in action.yml\'s defaults for the flags not given, as the runner does, and leaves the rest unset', () => {
    const flags = run('--task-definition', 'a.json')
    for (const [name, input] of inputs) {
      const expected = name === 'task-definition' ? 'a.json' : cliDefault(input.default)
      expect([name, flags.get(name)]).toEqual([name, expected])
    }
    expect(new CliHost(flags).getInput('non-root-strategy')).toBe(manifest.inputs['non-root-strategy'].default)
  })

  it('leaves a value that only looks boolean alone on a string flag', () => {
    expect(run('--task-definition', 'a.json', '--image', 'true').get('image')).toBe('true')
  })

  it.each([
    [['--help'], 'help'],
    [['-h'], 'help'],
    [['--task-definition', 'a.json', '--help'], 'help'],
    [['--version'], 'version'],
    [['-v'], 'version']
  ])('%j asks for the %s', (argv, kind) => {
    expect(parseCommandLine(argv).kind).toBe(kind)
  })

  it.each([
    [['--no-such-flag'], 'unknown flag --no-such-flag'],
    [['-x'], 'unknown flag -x'],
    [['--task-definition', 'a.json', 'b.json'], 'unexpected argument "b.json"'],
    [['--task-definition', 'a.json', '--', '--mode'], 'unexpected argument "--mode"'],
    [['--mode', 'sidecar', '--mode=embedded'], '--mode is given more than once'],
    [['--dry-run', '--dry-run=false'], '--dry-run is given more than once'],
    [['--output'], '--output needs a value'],
    [['--output', '--mode', 'embedded'], '--output needs a value'],
    [['--dry-run=maybe'], '--dry-run is true or false, not "maybe"'],
    [['--help=yes'], '--help takes no value'],
    [[], 'no flags']
  ])('%j is a usage error: %s', (argv, message) => {
    expect(usageError(...argv)).toContain(message)
  })
})
