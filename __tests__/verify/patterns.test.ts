import { IMAGES, requireServices } from '../support/test-env.js'
import { NOTHING, VERIFY_ENV, type WrapOptions, expectGreen, leftovers, uniqueLabel, wrap, verifyLocally } from './support.js'
import { patternNamed } from '../support/patterns.js'

// Each of the five patterns, produced by the bundled CLI from the plain examples on the fixture nginx images,
// verifies green: the agent runs as root in the app container, the app as its intended user, the port answers
// and docker stop ends the app at once.

interface Case {
  pattern: string
  wrap: WrapOptions
  port: number
  /** As the caller would pass it: a uid, or a name from the image's /etc/passwd. */
  appUser: string
  appUid: number
}

const cases: Case[] = [
  { pattern: 'root-sidecar', wrap: { plain: 'nginx-root.json', image: IMAGES.nginx, target: 'root-sidecar', token: 'plain' }, port: 80, appUser: '0', appUid: 0 },
  { pattern: 'root-embedded', wrap: { plain: 'nginx-root.json', image: IMAGES.nginx, mode: 'embedded', target: 'root-embedded' }, port: 80, appUser: 'root', appUid: 0 },
  { pattern: 'nonroot-sidecar', wrap: { plain: 'nginx-nonroot.json', image: IMAGES.unprivileged, target: 'nonroot-sidecar' }, port: 8080, appUser: '101', appUid: 101 },
  { pattern: 'nonroot-embedded', wrap: { plain: 'nginx-nonroot.json', image: IMAGES.unprivileged, mode: 'embedded', target: 'nonroot-embedded' }, port: 8080, appUser: 'nginx', appUid: 101 },
  {
    pattern: 'nonroot-as-root-sidecar',
    wrap: { plain: 'nginx-nonroot.json', image: IMAGES.unprivileged, strategy: 'run-as-root', target: 'nonroot-as-root-sidecar' },
    port: 8080,
    appUser: '0',
    appUid: 0
  }
]

beforeAll(requireServices)

it.each(cases)('$pattern verifies green', async testCase => {
  const definition = wrap(testCase.wrap)
  const label = uniqueLabel(testCase.pattern)
  const report = await verifyLocally(definition, {
    timeoutSeconds: 60,
    settleSeconds: 2,
    expectations: [{ container: 'nginx', pattern: patternNamed(testCase.pattern), appUser: testCase.appUser }],
    label,
    env: VERIFY_ENV
  })
  expectGreen(report)
  expect(report.failure).toBeUndefined()
  const nginx = Object.fromEntries(report.checks.filter(check => check.container === 'nginx').map(check => [check.check, check.evidence]))
  expect(nginx['agent runs as root']).toMatch(/^datacollector pid \d+ uid 0\b/)
  expect(nginx['app user']).toMatch(new RegExp(`^PID 1 is nginx \\(uid ${testCase.appUid}\\)`))
  expect(nginx.running).toMatch(/^running /)
  expect(nginx[`port ${testCase.port}/tcp`]).toMatch(/accepted a connection/)
  // nginx's STOPSIGNAL is SIGQUIT: it reaches nginx as PID 1 and ends it long before the kill.
  expect(nginx.stop).toMatch(/^SIGQUIT ended it in \d+\.\d s \(exit 0, timeout 10 s\)$/)
  if (testCase.pattern.endsWith('sidecar')) {
    expect(report.checks).toContainEqual({ container: 'datacollector-sidecar', check: 'dependency SUCCESS of nginx', ok: true, evidence: expect.stringMatching(/^exited 0 after/) })
  }
  expect(leftovers(label)).toEqual(NOTHING)
})
