import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, runCli } from './support/action.js'

// The seed document's own example files (examples/seed, MIT) as fixtures, with image facts from the saved
// `docker image inspect` output: no engine, no network.

const SCRIPT = '/var/lib/lacework-backup/lacework-sidecar.sh'
const examples = join(ROOT, 'examples')
// The seed's agent image is unpinned and no registry is reachable here: pinning is off.
const common = ['--pin-agent-image', 'false', '--image-inspect-file', join(examples, 'image-inspect.json'), '--lacework-access-token', 'abcdef', '--lacework-server-url', 'https://api.fra.lacework.net']
const out = mkdtempSync(join(tmpdir(), 'lwf-seed-'))

function run(file: string, flags: string[], name = file.replace(/\W/g, '_')): { text: string; stderr: string; status: number | null } {
  const output = join(out, name)
  const result = runCli(['--task-definition', file, ...common, ...flags, '--output', output])
  if (result.status !== 0) throw new Error(result.stderr)
  return { text: readFileSync(output, 'utf8'), stderr: result.stderr, status: result.status }
}

const seed = (name: string): string => join(examples, 'seed', name)
const json = (text: string): { containerDefinitions: Record<string, unknown>[]; family: string } => JSON.parse(text)

describe('each seed example run through again is unchanged, byte for byte', () => {
  it.each([
    ['nginx-root-sidecar.json', []],
    ['nginx-root-embedded.json', ['--mode', 'embedded']],
    ['nginx-nonroot-sidecar.json', []],
    ['nginx-nonroot-embedded.json', ['--mode', 'embedded']],
    ['nginx-nonrootasroot-sidecar.json', ['--non-root-strategy', 'run-as-root']],
    ['mongodb-root-sidecar.json', []]
  ])('%s', (file, flags) => {
    const result = run(seed(file), flags as string[])
    expect(result.text).toBe(readFileSync(seed(file), 'utf8'))
    expect(result.stderr).toContain('changed=false')
    expect(result.stderr).toContain('already instrumented')
  })
})

describe('the plain task definition of each pattern becomes the seed example, but for the improvements', () => {
  const plainRoot = join(examples, 'nginx-root.json')
  const plainNonRoot = join(examples, 'nginx-nonroot.json')
  const target = ['--target-image', 'registry.example/web', '--dry-run']

  /** The example and the rewrite, with the fields that legitimately differ set aside. */
  function compare(rewritten: string, example: string, differences: (app: Record<string, unknown>) => void): void {
    const ours = json(rewritten)
    const theirs = json(readFileSync(seed(example), 'utf8'))
    ours.family = theirs.family
    // The seed maps port 80 for the unprivileged nginx, which listens on 8080 (seed/SOURCE.md).
    delete ours.containerDefinitions[0].portMappings
    delete theirs.containerDefinitions[0].portMappings
    differences(ours.containerDefinitions[0])
    differences(theirs.containerDefinitions[0])
    expect(ours).toEqual(theirs)
  }

  it('root-sidecar: identical', () => {
    compare(run(plainRoot, []).text, 'nginx-root-sidecar.json', () => {})
  })

  it('nonroot-as-root-sidecar: identical', () => {
    compare(run(plainNonRoot, ['--non-root-strategy', 'run-as-root']).text, 'nginx-nonrootasroot-sidecar.json', () => {})
  })

  it('root-embedded: identical but for the built image', () => {
    const result = run(plainRoot, ['--mode', 'embedded', ...target])
    expect(json(result.text).containerDefinitions[0].image).toMatch(/^registry\.example\/web:lacework-[0-9a-f]{16}$/)
    compare(result.text, 'nginx-root-embedded.json', app => delete app.image)
  })

  it('nonroot-embedded: identical but for the built image', () => {
    const result = run(plainNonRoot, ['--mode', 'embedded', ...target])
    compare(result.text, 'nginx-nonroot-embedded.json', app => delete app.image)
  })

  it('nonroot-sidecar: the app is exec\'d with its original argv, through a sudo rule for the script alone', () => {
    const result = run(plainNonRoot, target)
    const app = json(result.text).containerDefinitions[0]
    expect(app.entryPoint).toEqual(['/bin/sh', '-c', `sudo -n ${SCRIPT} && exec "$0" "$@"`, '/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;'])
    compare(result.text, 'nginx-nonroot-sidecar.json', item => {
      delete item.image
      delete item.entryPoint
    })
  })

  it('the sudo patterns differ from the seed\'s entrypoint in the ways the README lists', () => {
    const seedEntry = json(readFileSync(seed('nginx-nonroot-sidecar.json'), 'utf8')).containerDefinitions[0].entryPoint as string[]
    expect(seedEntry[2]).toContain('sudo -E')
    const ours = json(run(plainNonRoot, target).text).containerDefinitions[0].entryPoint as string[]
    expect(ours[2]).not.toContain('-E')
    expect(ours[2]).toContain('exec')
  })
})
