import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, runActionAsync, type ActionRun } from './support/action.js'
import { ACTIONS_BOT, startGitHubApi, type GitHubApi } from './support/github-api.js'

// The review through the bundled action: job summary always, one sticky comment per task definition on the
// pull request, against a local stand-in of GitHub's REST API. Image facts from saved inspect output.

const GITHUB_TOKEN = 'ghs_reviewTestToken0123456789abcdefABCD'
const LACEWORK_TOKEN = 'reviewLaceworkToken_0123456789'
const event = join(ROOT, '__tests__/github/fixtures/pull_request.opened.json')
const inspect = join(ROOT, 'examples/image-inspect.json')
let api: GitHubApi

beforeAll(async () => {
  api = await startGitHubApi({ token: GITHUB_TOKEN })
})
afterAll(async () => api.close())

function taskDefinition(name: string, change: (td: { containerDefinitions: Record<string, unknown>[] }) => void = () => {}): string {
  const td = JSON.parse(readFileSync(join(ROOT, 'examples/nginx-nonroot.json'), 'utf8'))
  change(td)
  const file = join(mkdtempSync(join(tmpdir(), 'lwf-review-')), name)
  writeFileSync(file, JSON.stringify(td, null, 4))
  return file
}

async function review(file: string, inputs: Record<string, string> = {}, env: Record<string, string> = {}): Promise<ActionRun & { summary: string }> {
  const summaryFile = join(mkdtempSync(join(tmpdir(), 'lwf-summary-')), 'summary.md')
  writeFileSync(summaryFile, '')
  const run = await runActionAsync(
    {
      'task-definition': file,
      'image-inspect-file': inspect,
      'target-image': '012345678901.dkr.ecr.eu-central-1.amazonaws.com/nginx',
      'dry-run': 'true',
      'pin-agent-image': 'false',
      'lacework-access-token': LACEWORK_TOKEN,
      'github-token': GITHUB_TOKEN,
      ...inputs
    },
    { GITHUB_API_URL: api.url, GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event, GITHUB_STEP_SUMMARY: summaryFile, GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'acme/payments-service', GITHUB_RUN_ID: '777', ...env }
  )
  return { ...run, summary: readFileSync(summaryFile, 'utf8') }
}

const comments = (): ReturnType<GitHubApi['comments']> => api.comments('acme', 'payments-service', 42)

describe('the review on the pull request', () => {
  const web = taskDefinition('web.json')

  it('first run: one comment, the same text as the job summary, URL as output', async () => {
    const run = await review(web)
    expect(run.status).toBe(0)
    expect(comments()).toHaveLength(1)
    const [comment] = comments()
    expect(comment.user.login).toBe(ACTIONS_BOT.login)
    expect(run.outputs['comment-url']).toBe(comment.html_url)
    expect(run.summary.trim()).toBe(comment.body.trim())
    expect(comment.body).toContain(`<!-- lacework-fargate: ${web} -->`)
    expect(comment.body).toContain('nonroot-sidecar')
    expect(comment.body).toContain('```diff')
    expect(comment.body).toContain('+            "entryPoint": [')
  })

  it('second run with a changed task definition updates the same comment', async () => {
    writeFileSync(web, readFileSync(web, 'utf8').replace('"cpu": "1024"', '"cpu": "2048"'))
    const run = await review(web, { 'lacework-server-url': 'https://api.fra.lacework.net' })
    expect(run.status).toBe(0)
    expect(comments()).toHaveLength(1)
    expect(comments()[0].body).toContain('LaceworkServerUrl')
    expect(api.requests.filter(request => request.method === 'PATCH')).toHaveLength(1)
  })

  it('a second task definition in the same workflow keeps its own comment', async () => {
    const worker = taskDefinition('worker.json')
    expect((await review(worker)).status).toBe(0)
    expect(comments()).toHaveLength(2)
    expect(comments()[1].body).toContain(`<!-- lacework-fargate: ${worker} -->`)
  })

  it('no token, GitHub token or Lacework token, in comment, summary, log or outputs', async () => {
    const run = await review(web)
    const logged = run.stdout.split('\n').filter(line => !line.startsWith('::add-mask::')).join('\n')
    for (const secret of [LACEWORK_TOKEN, GITHUB_TOKEN]) {
      expect(logged).not.toContain(secret)
      expect(run.summary).not.toContain(secret)
      expect(JSON.stringify(run.outputs)).not.toContain(secret)
      for (const request of api.requests) expect(request.body ?? '').not.toContain(secret)
    }
    expect(comments()[0].body).toContain('"value": "***"')
  })

  it('a read-only token (403): one warning pointing at the summary, exit 0, summary written', async () => {
    api.failWrites(403)
    try {
      const run = await review(taskDefinition('forked.json'))
      expect(run.status).toBe(0)
      const warnings = run.stdout.split('\n').filter(line => line.startsWith('::warning::could not comment'))
      expect(warnings).toEqual([
        '::warning::could not comment on pull request #42 (HTTP 403: Resource not accessible by integration - https://docs.github.com/rest/issues/comments#create-an-issue-comment); the token is read-only here (fork or Dependabot pull requests): the review is in the job summary'
      ])
      expect(run.summary).toContain('nonroot-sidecar')
      expect(run.outputs['comment-url']).toBeUndefined()
    } finally {
      api.failWrites(undefined)
    }
  })

  it('an oversized diff is shortened to GitHub\'s limit, the decision table intact', async () => {
    // ECS allows 10 containers, so a diff this large comes from a long line: a minified file with big values.
    const file = taskDefinition('huge.json', td => {
      td.containerDefinitions = Array.from({ length: 8 }, (_, i) => ({
        ...td.containerDefinitions[0],
        name: `app-${i}`,
        dockerLabels: Object.fromEntries(Array.from({ length: 200 }, (_, j) => [`label.${j}`, 'x'.repeat(60)]))
      }))
    })
    writeFileSync(file, JSON.stringify(JSON.parse(readFileSync(file, 'utf8'))))
    const run = await review(file)
    expect(run.status).toBe(0)
    expect(run.summary.length).toBeGreaterThan(65536)
    const body = comments().find(comment => comment.body.includes(`lacework-fargate: ${file} `))?.body ?? ''
    expect(body.length).toBeGreaterThan(0)
    expect(body.length).toBeLessThanOrEqual(65536)
    expect(body).toContain('| app-0 |')
    expect(body).toContain('| app-7 |')
    expect(body).toContain('https://github.com/acme/payments-service/actions/runs/777')
  })

  it('behind 150 comments of others (its own on the second page of 100), it is still found and updated', async () => {
    api.seed('acme', 'payments-service', 42, Array.from({ length: 150 }, (_, i) => `LGTM ${i}`))
    const crowded = taskDefinition('crowded.json')
    expect((await review(crowded)).status).toBe(0)
    const count = comments().length
    const ours = (): ReturnType<GitHubApi['comments']> => comments().filter(comment => comment.body.includes(`lacework-fargate: ${crowded} `))
    expect(ours()).toHaveLength(1)
    expect(comments().indexOf(ours()[0])).toBeGreaterThanOrEqual(100)
    const pagesBefore = api.requests.filter(request => request.method === 'GET' && /[?&]page=2/.test(request.path)).length
    const run = await review(crowded, { 'lacework-server-url': 'https://api.fra.lacework.net' })
    expect(run.status).toBe(0)
    expect(comments()).toHaveLength(count)
    expect(ours()).toHaveLength(1)
    expect(ours()[0].body).toContain('LaceworkServerUrl')
    expect(api.requests.filter(request => request.method === 'GET' && /[?&]page=2/.test(request.path)).length).toBeGreaterThan(pagesBefore)
  })

  it('several task definitions in one step: one comment, a collapsible section each', async () => {
    const first = taskDefinition('svc-one.json')
    const second = taskDefinition('svc-two.json')
    const before = comments().length
    const run = await review(`${first}\n${second}`)
    expect(run.status).toBe(0)
    expect(comments()).toHaveLength(before + 1)
    const body = comments()[comments().length - 1].body
    expect(body.split('\n')[1]).toBe('### Lacework agent: 2 task definitions, 2 changed')
    expect(body.match(/<details><summary>/g)).toHaveLength(2)
    expect(body).toContain(`<details><summary>${first.replace(/_/g, '\\_')}: nonroot-sidecar</summary>`)
  })

  it('comment: false writes the summary only', async () => {
    const before = api.requests.length
    const run = await review(taskDefinition('quiet.json'), { comment: 'false' })
    expect(run.status).toBe(0)
    expect(run.summary).toContain('nonroot-sidecar')
    expect(api.requests.length).toBe(before)
  })
})

describe('an event payload that is not JSON', () => {
  // @actions/github parses GITHUB_EVENT_PATH as it loads: loaded at start, it crashed the bundle before anything ran.
  it('is one warning: the task definition is written, the outputs are set, the step succeeds', async () => {
    const broken = join(mkdtempSync(join(tmpdir(), 'lwf-event-')), 'event.json')
    writeFileSync(broken, '{"pull_request": {"number": 42,')
    const run = await review(taskDefinition('broken-event.json'), {}, { GITHUB_EVENT_PATH: broken })
    expect(run.status).toBe(0)
    expect(run.stderr).toBe('')
    const warnings = run.stdout.split('\n').filter(line => line.startsWith('::warning'))
    expect(warnings.filter(line => line.includes(broken))).toHaveLength(1)
    expect(JSON.parse(readFileSync(run.outputs['task-definition'], 'utf8')).containerDefinitions).toHaveLength(2)
    expect(run.outputs.changed).toBe('true')
    expect(run.summary).toContain('### Lacework agent:')
  })
})
