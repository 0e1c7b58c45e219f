import { renderDockerfile, sudoersRules } from '../../../src/core/dockerfile.js'

const SCRIPT = '/var/lib/lacework-backup/lacework-sidecar.sh'

describe('sudoersRules', () => {
  it('allows only the agent script, with no arguments, to a uid', () => {
    expect(sudoersRules('101')).toContain(`#101 ALL=(root) NOPASSWD: ${SCRIPT} ""`)
  })
  it('names a user by name and ignores the group', () => {
    expect(sudoersRules('app:app')).toContain(`app ALL=(root) NOPASSWD: ${SCRIPT} ""`)
  })
  it('keeps only the agent variables, never NOPASSWD:ALL', () => {
    const rules = sudoersRules('101').join('\n')
    expect(rules).toContain(`Defaults!${SCRIPT} env_keep += "LaceworkAccessToken LaceworkServerUrl"`)
    expect(rules).not.toMatch(/NOPASSWD:\s*ALL/)
  })
})

describe('renderDockerfile', () => {
  it('root-embedded: multi-stage copy, new ENTRYPOINT, CMD restated', () => {
    const dockerfile = renderDockerfile(
      { base: 'nginx:1.23.1', copyAgent: true, imageUser: '', entrypoint: [SCRIPT, '/docker-entrypoint.sh'], cmd: ['nginx', '-g', 'daemon off;'] },
      'lacework/datacollector:latest-sidecar'
    )
    expect(dockerfile.split('\n').filter(line => !line.startsWith('#'))).toEqual([
      'FROM lacework/datacollector:latest-sidecar AS lacework-agent',
      'FROM nginx:1.23.1',
      'COPY --from=lacework-agent /var/lib/lacework-backup /var/lib/lacework-backup',
      `ENTRYPOINT ["${SCRIPT}","/docker-entrypoint.sh"]`,
      'CMD ["nginx","-g","daemon off;"]',
      ''
    ])
  })
  it('sudo: switches to root to install, then restores the image user', () => {
    const dockerfile = renderDockerfile({ base: 'web:1', copyAgent: false, sudoUser: '101', imageUser: '101' }, 'agent')
    const lines = dockerfile.split('\n')
    expect(lines).toContain('USER root')
    expect(lines[lines.length - 2]).toBe('USER 101')
    expect(dockerfile).not.toContain('FROM agent')
    expect(dockerfile).toContain('visudo -c')
    for (const manager of ['apt-get', 'apk', 'microdnf', 'dnf', 'yum']) expect(dockerfile).toContain(`command -v ${manager}`)
  })
})
