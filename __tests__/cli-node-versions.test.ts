import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT } from './support/action.js'

// package.json's engines says Node >= 22 (a dependency needs it): the bundled CLI runs on the lowest it names and on
// the Node 24 action.yml declares, both real binaries from npm (the `node22` and `node` dev dependencies).

const engines = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).engines.node as string
const NODES = [
  ['22', join(ROOT, 'node_modules/node22/bin/node')],
  ['24', join(ROOT, 'node_modules/node/bin/node')]
]

it('engines names Node 22 as the lowest', () => {
  expect(engines).toBe('>=22')
})

describe.each(NODES)('Node %s', (major, node) => {
  it('is that Node', () => {
    expect(spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout).toMatch(new RegExp(`^v${major}\\.`))
  })

  it('runs the CLI on the bundled example: root-sidecar, written to --output', () => {
    const output = join(mkdtempSync(join(tmpdir(), 'lwf-cli-node-')), 'out.json')
    const run = spawnSync(
      node,
      [
        join(ROOT, 'dist/cli/index.js'),
        '--task-definition', 'examples/nginx-root.json',
        '--image-inspect-file', 'examples/image-inspect.json',
        '--lacework-access-token-secret', 'arn:aws:ssm:eu-central-1:012345678901:parameter/lacework/access-token',
        '--dry-run',
        '--pin-agent-image', 'false',
        '--output', output
      ],
      { cwd: ROOT, encoding: 'utf8' }
    )
    expect(run.status).toBe(0)
    expect(run.stderr).toContain('pattern=nginx=root-sidecar')
    const written = JSON.parse(readFileSync(output, 'utf8'))
    expect(written.containerDefinitions[0].entryPoint).toEqual(['/var/lib/lacework-backup/lacework-sidecar.sh', '/docker-entrypoint.sh'])
  })
})
