import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, runAction } from './support/action.js'
import { RUN_ID } from './support/registry-images.js'
import { IMAGES, REGISTRY, docker, dockerStatus, requireServices } from './support/test-env.js'

// The sudo rule the action writes must hold even in an image whose own sudoers sets no secure_path (Alpine's
// sample sudoers leaves it commented out): sudo then keeps the caller's PATH, and the agent script runs whoami,
// awk, … by name as root. The app user's PATH must not choose what runs as root.

const SCRIPT = '/var/lib/lacework-backup/lacework-sidecar.sh'
const TOKEN = 'sudoRuleToken_0123456789abcdef'
const images: string[] = []

beforeAll(requireServices)
afterAll(() => {
  for (const image of images) dockerStatus(['rmi', '--force', image])
})

/** The sudo-enabled embedded image the action builds for the unprivileged nginx, with sed `edits` applied as root. */
function variant(built: string, name: string, edits: string[]): string {
  const tag = `${REGISTRY}/lwf-sudo-rule/${name}:${RUN_ID}`
  const context = mkdtempSync(join(tmpdir(), 'lwf-sudo-rule-'))
  try {
    writeFileSync(join(context, 'Dockerfile'), [`FROM ${built}`, 'USER root', `RUN ${edits.join(' && ')} && visudo -c`, 'USER 101', ''].join('\n'))
    docker(['build', '--quiet', '--tag', tag, context])
    images.push(tag)
  } finally {
    rmSync(context, { recursive: true, force: true })
  }
  return tag
}

/** As the image user: a PATH whose first whoami records who ran it, then the one command sudo allows. */
function hijack(image: string): string {
  const script = [
    'mkdir -p /tmp/evil',
    `printf '#!/bin/sh\\nid -u > /tmp/evil/ran-as\\nexit 0\\n' > /tmp/evil/whoami`,
    'chmod +x /tmp/evil/whoami',
    `PATH=/tmp/evil:$PATH sudo -n ${SCRIPT} >/dev/null 2>&1`,
    'cat /tmp/evil/ran-as 2>/dev/null || echo never'
  ].join('; ')
  return docker(['run', '--rm', '--user', '101', '--env', `LaceworkAccessToken=${TOKEN}`, '--entrypoint', '/bin/sh', image, '-c', script]).trim()
}

describe('the sudo rule in an image whose sudoers has no secure_path', () => {
  let built: string
  beforeAll(() => {
    const file = join(mkdtempSync(join(tmpdir(), 'lwf-sudo-rule-td-')), 'task.json')
    const plain = JSON.parse(readFileSync(join(ROOT, 'examples/nginx-nonroot.json'), 'utf8'))
    plain.containerDefinitions[0].image = IMAGES.unprivileged
    writeFileSync(file, JSON.stringify(plain, null, 2))
    const run = runAction({
      'task-definition': file,
      mode: 'embedded',
      'agent-image': IMAGES.agent,
      'target-image': `${REGISTRY}/lwf-sudo-rule/built`,
      'lacework-access-token': TOKEN
    })
    if (run.status !== 0) throw new Error(`action failed:\n${run.stdout}`)
    built = run.outputs.image
    docker(['pull', '--quiet', built])
    images.push(built)
  })

  test("the caller's PATH does not choose what the agent script runs as root", () => {
    const image = variant(built, 'no-secure-path', ["sed -i '/secure_path/d' /etc/sudoers"])
    expect(docker(['run', '--rm', '--user', '0', '--entrypoint', '/bin/sh', image, '-c', 'grep -c secure_path /etc/sudoers || true']).trim()).toBe('0')
    expect(hijack(image)).toBe('never')
  })

  test('without the rule\'s own secure_path, the same attempt runs the caller\'s program as root', () => {
    // The control: proves the attempt above is a real one, so its "never" means something.
    const image = variant(built, 'no-secure-path-at-all', ["sed -i '/secure_path/d' /etc/sudoers", "sed -i '/secure_path/d' /etc/sudoers.d/lacework-agent"])
    expect(hijack(image)).toBe('0')
  })
})
