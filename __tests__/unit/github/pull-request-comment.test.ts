import { fileURLToPath } from 'node:url'
import { GitHubApiError, GitHubEventError } from '../../../src/adapters/github/errors.js'
import { upsertStickyComment, type StickyCommentTarget } from '../../../src/adapters/github/pull-request-comment.js'
import { pullRequestFromEvent } from '../../../src/adapters/github/pull-request.js'
import { renderReview, reviewMarker } from '../../../src/core/review.js'
import { ACTIONS_BOT, OTHER_USER, startGitHubApi, type GitHubApi } from '../../support/github-api.js'
import { patternNamed } from '../../support/patterns.js'

const TOKEN = 'ghs_16C7e42F292c6912E7710c838347Ae178B4a'
const OWNER = 'acme'
const REPO = 'payments-service'
const PR = 42
const WEB = reviewMarker('deploy/web.json')
const WORKER = reviewMarker('deploy/worker.json')
const fixture = (name: string): string => fileURLToPath(new URL(`../../github/fixtures/${name}`, import.meta.url))

let api: GitHubApi
let target: StickyCommentTarget

beforeEach(async () => {
  api = await startGitHubApi({ token: TOKEN })
  target = { token: TOKEN, apiUrl: api.url, owner: OWNER, repo: REPO, issueNumber: PR }
})
afterEach(async () => {
  await api.close()
})

const comments = () => api.comments(OWNER, REPO, PR)
const calls = () => api.requests.map(request => `${request.method} ${request.path}`)

describe('upsertStickyComment', () => {
  it('creates one comment on the first run', async () => {
    const result = await upsertStickyComment(target, WEB, `${WEB}\nfirst`)
    expect(comments()).toHaveLength(1)
    const [comment] = comments()
    expect(result).toEqual({ status: 'created', url: `https://github.com/acme/payments-service/pull/42#issuecomment-${comment.id}` })
    expect(comment.body).toBe(`${WEB}\nfirst`)
    expect(comment.user.login).toBe(ACTIONS_BOT.login)
    expect(calls()).toEqual(['GET /repos/acme/payments-service/issues/42/comments?per_page=100', 'POST /repos/acme/payments-service/issues/42/comments'])
    expect(api.requests.every(request => request.headers.authorization === `token ${TOKEN}`)).toBe(true)
    expect(JSON.parse(api.requests[1].body)).toEqual({ body: `${WEB}\nfirst` })
  })

  it('updates the same comment on a second run with a changed body', async () => {
    const first = await upsertStickyComment(target, WEB, `${WEB}\nfirst`)
    const id = comments()[0].id
    const second = await upsertStickyComment(target, WEB, `${WEB}\nsecond`)
    expect(second).toEqual({ status: 'updated', url: first.status === 'created' ? first.url : '' })
    expect(comments()).toHaveLength(1)
    expect(comments()[0]).toMatchObject({ id, body: `${WEB}\nsecond` })
    expect(calls().slice(2)).toEqual(['GET /repos/acme/payments-service/issues/42/comments?per_page=100', `PATCH /repos/acme/payments-service/issues/comments/${id}`])
  })

  it('keeps one comment per task definition: two markers, two comments, each updated in place', async () => {
    await upsertStickyComment(target, WEB, `${WEB}\nweb 1`)
    await upsertStickyComment(target, WORKER, `${WORKER}\nworker 1`)
    await upsertStickyComment(target, WEB, `${WEB}\nweb 2`)
    await upsertStickyComment(target, WORKER, `${WORKER}\nworker 2`)
    expect(comments().map(comment => comment.body)).toEqual([`${WEB}\nweb 2`, `${WORKER}\nworker 2`])
  })

  it('adds the marker when the body lacks it, so the next run finds the comment', async () => {
    await upsertStickyComment(target, WEB, 'no marker here')
    await upsertStickyComment(target, WEB, 'still none')
    expect(comments().map(comment => comment.body)).toEqual([`${WEB}\nstill none`])
  })

  it.each([
    [30, 3],
    [50, 2]
  ])('finds its comment behind 70 others on the last page (per_page %d) and updates it', async (perPage, pages) => {
    api.seed(OWNER, REPO, PR, Array.from({ length: 70 }, (_, i) => `LGTM ${i}`), OTHER_USER)
    // Someone quoting the marker in a reply is not the action's comment.
    api.seed(OWNER, REPO, PR, [`> ${WEB}\n> old review\n\nwhy sudo?`], OTHER_USER)
    const [own] = api.seed(OWNER, REPO, PR, [`${WEB}\nold`], ACTIONS_BOT)
    const result = await upsertStickyComment({ ...target, perPage }, WEB, `${WEB}\nnew`)
    expect(result).toEqual({ status: 'updated', url: own.html_url })
    expect(comments()).toHaveLength(72)
    expect(comments()[71]).toMatchObject({ id: own.id, body: `${WEB}\nnew` })
    expect(comments()[70].body).toBe(`> ${WEB}\n> old review\n\nwhy sudo?`)
    const gets = api.requests.filter(request => request.method === 'GET').map(request => request.path)
    expect(gets).toHaveLength(pages)
    // The first page is asked for by owner/name, later ones by the Link header's rel="next" (repository id).
    expect(gets[0]).toBe(`/repos/acme/payments-service/issues/42/comments?per_page=${perPage}`)
    gets.slice(1).forEach((path, i) => expect(path).toMatch(new RegExp(`^/repositories/\\d+/issues/42/comments\\?per_page=${perPage}&page=${i + 2}$`)))
    expect(calls().at(-1)).toBe(`PATCH /repos/acme/payments-service/issues/comments/${own.id}`)
  })

  it('pages through with the default page size too (250 comments, per_page 100)', async () => {
    api.seed(OWNER, REPO, PR, Array.from({ length: 250 }, (_, i) => `comment ${i}`))
    const result = await upsertStickyComment(target, WEB, `${WEB}\nbody`)
    expect(result.status).toBe('created')
    expect(calls().filter(call => call.startsWith('GET'))).toHaveLength(3)
    expect(comments()).toHaveLength(251)
  })

  it('answers forbidden, throwing nothing, when a read-only token may not create the comment (403)', async () => {
    api.failWrites(403)
    const result = await upsertStickyComment(target, WEB, `${WEB}\nbody`)
    expect(result).toEqual({
      status: 'forbidden',
      httpStatus: 403,
      message: 'Resource not accessible by integration - https://docs.github.com/rest/issues/comments#create-an-issue-comment'
    })
    expect(comments()).toHaveLength(0)
  })

  it('answers forbidden when a read-only token may not update its earlier comment (403), and on 404', async () => {
    const [own] = api.seed(OWNER, REPO, PR, [`${WEB}\nold`], ACTIONS_BOT)
    api.failWrites(403)
    await expect(upsertStickyComment(target, WEB, `${WEB}\nnew`)).resolves.toMatchObject({ status: 'forbidden', httpStatus: 403 })
    api.failWrites(404)
    await expect(upsertStickyComment(target, WEB, `${WEB}\nnew`)).resolves.toMatchObject({ status: 'forbidden', httpStatus: 404, message: expect.stringMatching(/^Not Found/) })
    expect(comments()).toEqual([own])
  })

  it('throws one clear typed line, without the token, on any other failure', async () => {
    api.failWrites(500)
    const failure = upsertStickyComment(target, WEB, `${WEB}\nbody`)
    await expect(failure).rejects.toBeInstanceOf(GitHubApiError)
    await expect(failure).rejects.toThrow('GitHub API: create a comment on acme/payments-service#42 failed (HTTP 500): Server Error')
    const badToken = upsertStickyComment({ ...target, token: 'ghs_wrong' }, WEB, `${WEB}\nbody`)
    await expect(badToken).rejects.toThrow(/^GitHub API: list comments of acme\/payments-service#42 failed \(HTTP 401\): Bad credentials/)
    await expect(badToken).rejects.not.toThrow(/ghs_wrong/)
    const closed = await startGitHubApi({ token: TOKEN })
    await closed.close()
    const unreachable = upsertStickyComment({ ...target, apiUrl: closed.url }, WEB, `${WEB}\nbody`)
    await expect(unreachable).rejects.toThrow(/^GitHub API: list comments of acme\/payments-service#42 failed: /)
  })

  it('never sends a token that the review masked, nor the GitHub token, in any request body', async () => {
    const laceworkToken = '_e1e0bf5e6d2c4b1f9f3c8a7d6b5e4c3d2a1f0e9d8c7b6a5'
    const diff = [
      '--- a/deploy/web.json',
      '+++ b/deploy/web.json',
      '@@ -3,1 +3,2 @@',
      '   "name": "web",',
      `+  "environment": [{ "name": "LaceworkAccessToken", "value": "${laceworkToken}" }],`,
      ''
    ].join('\n')
    const body = renderReview({
      taskDefinitionPath: 'deploy/web.json',
      containers: [
        {
          container: 'web',
          user: '',
          pattern: patternNamed('root-sidecar'),
          reason: 'image has no USER',
          imageBefore: 'web:1',
          imageAfter: 'web:1',
          alreadyInstrumented: false,
          warnings: [`plaintext token ${laceworkToken}: use lacework-access-token-secret`]
        }
      ],
      diff,
      changed: true,
      secrets: [laceworkToken]
    })
    await upsertStickyComment(target, WEB, body)
    await upsertStickyComment(target, WEB, body.replace('web:1', 'web:2'))
    expect(calls().map(call => call.split(' ')[0])).toEqual(['GET', 'POST', 'GET', 'PATCH'])
    for (const request of api.requests) {
      expect(request.body).not.toContain(laceworkToken)
      expect(request.body).not.toContain(TOKEN)
      expect(request.path).not.toContain(laceworkToken)
    }
    expect(comments()[0].body).toContain('"value": "***"')
  })

  it('gets an oversized review accepted: shortened to GitHub\'s 65,536 characters, table intact', async () => {
    const lines = Array.from({ length: 4000 }, (_, i) => `+  "line-${i}": "${'y'.repeat(30)}",`)
    const review = {
      container: 'web',
      user: '101',
      pattern: patternNamed('nonroot-sidecar'),
      reason: 'image user 101 → non-root; strategy sudo',
      imageBefore: 'web:1',
      imageAfter: 'registry.example/web@sha256:0123',
      alreadyInstrumented: false,
      warnings: []
    }
    const body = renderReview({ taskDefinitionPath: 'deploy/web.json', containers: [review], diff: lines.join('\n'), changed: true, runUrl: 'https://github.com/acme/payments-service/actions/runs/1' })
    expect(body.length).toBeGreaterThan(60000)
    await expect(upsertStickyComment(target, WEB, body)).resolves.toMatchObject({ status: 'created' })
    expect(comments()[0].body).toContain('| web | 101 | nonroot-sidecar | image user 101 → non-root; strategy sudo | web:1 → registry.example/web@sha256:0123 | — | — |')
    // The stand-in refuses what GitHub refuses: a body one character over the limit.
    await expect(upsertStickyComment(target, WEB, `${WEB}\n${'z'.repeat(65536)}`)).rejects.toThrow(/HTTP 422.*body is too long \(maximum is 65536 characters\)/)
  })
})

describe('pullRequestFromEvent', () => {
  it('reads the base repository and number from a pull_request payload (a fork\'s pull request)', () => {
    expect(pullRequestFromEvent('pull_request', fixture('pull_request.opened.json'))).toEqual({ owner: 'acme', repo: 'payments-service', issueNumber: 42 })
  })
  it('reads pull_request_target the same way', () => {
    expect(pullRequestFromEvent('pull_request_target', fixture('pull_request.opened.json'))).toEqual({ owner: 'acme', repo: 'payments-service', issueNumber: 42 })
  })
  it('is undefined for a push or any other event', () => {
    expect(pullRequestFromEvent('push', fixture('push.json'))).toBeUndefined()
    expect(pullRequestFromEvent('workflow_dispatch', '')).toBeUndefined()
  })
  it('throws a typed error for a missing or mismatched payload file', () => {
    expect(() => pullRequestFromEvent('pull_request', fixture('missing.json'))).toThrow(GitHubEventError)
    expect(() => pullRequestFromEvent('pull_request', fixture('push.json'))).toThrow(/push\.json: not a pull_request payload/)
  })
})
