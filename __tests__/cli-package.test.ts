import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { parse } from 'yaml'
import { ROOT } from './support/action.js'
import { helpFlags } from './support/cli-help.js'

// The CLI as npm ships it: `npm pack`, the tarball installed into an empty folder without a registry (dist/ is bundled,
// so it has no dependencies), then `npx lacework-fargate` on the lowest Node package.json's engines names (the `node22`
// dev dependency) and on Node 24 (`node`), both real binaries from npm.

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; engines: { node: string } }
const manifest = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, { description: string; default?: string }> }
const NODES = [
  ['22', join(ROOT, 'node_modules/node22/bin')],
  ['24', join(ROOT, 'node_modules/node/bin')]
]
const work = mkdtempSync(join(tmpdir(), 'lwf-cli-package-'))
const app = join(work, 'app')
const TOKEN_ARN = 'arn:aws:ssm:eu-central-1:012345678901:parameter/lacework/access-token'

/** The environment of a user's shell with `nodeBin` first on PATH: no npm_* variables of the npm that runs jest. */
function env(nodeBin: string): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(npm_|INPUT_|GITHUB_|RUNNER_)/i.test(name)))
  return { ...clean, PATH: `${nodeBin}${delimiter}${process.env.PATH}`, npm_config_cache: join(work, 'npm-cache'), npm_config_update_notifier: 'false' }
}

function sh(command: string, args: string[], cwd: string, nodeBin: string): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, env: env(nodeBin), encoding: 'utf8', timeout: 120_000 })
}

let files: string[] = []

beforeAll(() => {
  const lowest = NODES[0][1]
  const pack = sh('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], ROOT, lowest)
  if (pack.status !== 0) throw new Error(`npm pack failed (${pack.status}):\n${pack.stderr}`)
  const [packed] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[]
  files = packed.files.map(file => file.path)
  mkdirSync(app)
  const install = sh('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', join(work, packed.filename)], app, lowest)
  if (install.status !== 0) throw new Error(`npm install of the tarball failed (${install.status}):\n${install.stderr}`)
})

afterAll(() => rmSync(work, { recursive: true, force: true }))

describe('the tarball', () => {
  it('holds the bundled CLI, its licenses and the docs, and no source, tests or node_modules', () => {
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'dist/cli/index.js', 'dist/cli/licenses.txt']))
    expect(files.filter(path => /^(src|__tests__|node_modules|scripts|examples)\//.test(path))).toEqual([])
  })

  it('is installed as the package, with no dependencies pulled in and the bin starting with its shebang', () => {
    const installed = JSON.parse(readFileSync(join(app, 'node_modules', pkg.name, 'package.json'), 'utf8'))
    expect([installed.name, installed.version, installed.private, installed.dependencies]).toEqual([pkg.name, pkg.version, undefined, undefined])
    const bin = readFileSync(join(app, 'node_modules', pkg.name, installed.bin['lacework-fargate']), 'utf8')
    expect(bin.split('\n')[0]).toBe('#!/usr/bin/env node')
    expect(existsSync(join(app, 'node_modules/.bin/lacework-fargate'))).toBe(true)
  })
})

describe.each(NODES)('npx lacework-fargate on Node %s', (major, nodeBin) => {
  // The installed bin or nothing, never a download. (`--no` would swallow the flags after the bin's name.)
  const npx = (...args: string[]): SpawnSyncReturns<string> => sh('npx', ['--yes=false', '--offline', 'lacework-fargate', ...args], app, nodeBin)

  it('runs that Node: the `node` a bin\'s `#!/usr/bin/env node` finds under npx', () => {
    const run = sh('npx', ['--yes=false', '--offline', '-c', 'node --version'], app, nodeBin)
    expect(run.stdout).toMatch(new RegExp(`^v${major}\\.`))
  })

  it('--version prints package.json\'s version, exit 0', () => {
    const run = npx('--version')
    expect([run.status, run.stdout]).toEqual([0, `${pkg.version}\n`])
  })

  it('--help lists exactly action.yml\'s inputs with their descriptions and defaults, exit 0', () => {
    const run = npx('--help')
    expect(run.status).toBe(0)
    const listed = helpFlags(run.stdout)
    expect([...listed.keys()]).toEqual(Object.keys(manifest.inputs))
    for (const [name, input] of Object.entries(manifest.inputs)) {
      // A workflow expression (`${{ github.token }}`) is no default on the command line, as the README says.
      const fallback = input.default === undefined || String(input.default).includes('${{') ? undefined : String(input.default)
      const expected = { description: input.description.replace(/\s+/g, ' ').trim(), ...(fallback === undefined ? {} : { default: fallback }) }
      expect([name, listed.get(name)]).toEqual([name, expected])
    }
  })

  it('an unknown flag is a usage error: one `error:` line on stderr, exit 2', () => {
    const run = npx('--no-such-flag')
    expect(run.status).toBe(2)
    expect(run.stdout).toBe('')
    const errors = run.stderr.split('\n').filter(line => line.startsWith('error:'))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain('--no-such-flag')
    expect(run.stderr).toContain('--help')
  })

  it('rewrites the bundled example (dry run) and prints the task definition, exit 0', () => {
    const run = npx(
      '--task-definition', join(ROOT, 'examples/nginx-root.json'),
      '--image-inspect-file', join(ROOT, 'examples/image-inspect.json'),
      '--lacework-access-token-secret', TOKEN_ARN,
      '--dry-run',
      '--pin-agent-image', 'false'
    )
    expect([run.status, run.stderr.includes('pattern=nginx=root-sidecar')]).toEqual([0, true])
    const written = JSON.parse(run.stdout) as { containerDefinitions: { name: string; entryPoint?: string[]; secrets?: { valueFrom: string }[] }[] }
    const nginx = written.containerDefinitions.find(container => container.name === 'nginx')
    expect(nginx?.entryPoint).toEqual(['/var/lib/lacework-backup/lacework-sidecar.sh', '/docker-entrypoint.sh'])
    expect(written.containerDefinitions.map(container => container.name)).toContain('datacollector-sidecar')
    expect(nginx?.secrets?.map(secret => secret.valueFrom)).toContain(TOKEN_ARN)
  })
})

it('engines names the Node that the test installs as the lowest', () => {
  expect(pkg.engines.node).toBe('>=22')
})
