import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readBody } from './http-body.js'

/**
 * A local stand-in for the part of GitHub's REST API the action uses (issue comments), answering with the
 * status codes, headers and bodies of GitHub's published OpenAPI description, so Octokit runs unmodified.
 */

export interface RecordedRequest {
  method: string
  /** Path and query, as sent. */
  path: string
  headers: IncomingHttpHeaders
  /** Raw request body ('' when none). */
  body: string
}

export interface GitHubUser {
  login: string
  id: number
  type: 'User' | 'Bot'
}

export interface IssueComment {
  id: number
  node_id: string
  url: string
  html_url: string
  body: string
  user: Record<string, unknown>
  created_at: string
  updated_at: string
  issue_url: string
  author_association: string
  performed_via_github_app: null
  reactions: Record<string, unknown>
}

export interface GitHubApi {
  /** Base URL to use as GITHUB_API_URL / Octokit's baseUrl. */
  url: string
  /** Every request received, in order. */
  requests: RecordedRequest[]
  /** Comments of one issue or pull request, oldest first. */
  comments(owner: string, repo: string, issueNumber: number): IssueComment[]
  /** Adds comments as if written earlier, by `user` (another person by default). */
  seed(owner: string, repo: string, issueNumber: number, bodies: string[], user?: GitHubUser): IssueComment[]
  /** Makes POST / PATCH answer this status as GitHub does (403: a read-only token); undefined: back to normal. */
  failWrites(status: 403 | 404 | 500 | undefined): void
  close(): Promise<void>
}

export const ACTIONS_BOT: GitHubUser = { login: 'github-actions[bot]', id: 41898282, type: 'Bot' }
export const OTHER_USER: GitHubUser = { login: 'octocat', id: 583231, type: 'User' }

const DOCS = 'https://docs.github.com/rest/issues/comments'
// GitHub's answers for a refused write, per status (documentation_url as GitHub sends it; "status" since 2024).
const WRITE_FAILURES = {
  403: { message: 'Resource not accessible by integration', documentation_url: `${DOCS}#create-an-issue-comment`, status: '403' },
  404: { message: 'Not Found', documentation_url: `${DOCS}#create-an-issue-comment`, status: '404' },
  500: { message: 'Server Error', status: '500' }
}
const MAX_BODY = 65536

function simpleUser(user: GitHubUser, web: string, api: string): Record<string, unknown> {
  const login = encodeURIComponent(user.login)
  return {
    login: user.login,
    id: user.id,
    node_id: Buffer.from(`04:${user.type}${user.id}`).toString('base64'),
    avatar_url: `https://avatars.githubusercontent.com/u/${user.id}?v=4`,
    gravatar_id: '',
    url: `${api}/users/${login}`,
    html_url: `${web}/${user.type === 'Bot' ? 'apps/github-actions' : login}`,
    followers_url: `${api}/users/${login}/followers`,
    following_url: `${api}/users/${login}/following{/other_user}`,
    gists_url: `${api}/users/${login}/gists{/gist_id}`,
    starred_url: `${api}/users/${login}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/users/${login}/subscriptions`,
    organizations_url: `${api}/users/${login}/orgs`,
    repos_url: `${api}/users/${login}/repos`,
    events_url: `${api}/users/${login}/events{/privacy}`,
    received_events_url: `${api}/users/${login}/received_events`,
    type: user.type,
    user_view_type: 'public',
    site_admin: false
  }
}

/**
 * Starts the stand-in on 127.0.0.1 (a free port). Requests must carry `authorization: token <token>` or
 * `Bearer <token>`, as GitHub checks; anything else answers 401 "Bad credentials".
 */
export async function startGitHubApi(options: { token: string; webUrl?: string }): Promise<GitHubApi> {
  const web = options.webUrl ?? 'https://github.com'
  const requests: RecordedRequest[] = []
  const issues = new Map<string, IssueComment[]>()
  const repositoryIds = new Map<string, number>()
  let nextCommentId = 2_000_000_001
  let writeFailure: 403 | 404 | 500 | undefined
  let base = ''

  const repositoryId = (owner: string, repo: string): number => {
    const key = `${owner}/${repo}`.toLowerCase()
    if (!repositoryIds.has(key)) repositoryIds.set(key, 700_000_000 + repositoryIds.size + 1)
    return repositoryIds.get(key) as number
  }
  const slugOf = (id: number): string | undefined => [...repositoryIds].find(([, value]) => value === id)?.[0]
  const listOf = (owner: string, repo: string, issueNumber: number): IssueComment[] => {
    const key = `${owner}/${repo}#${issueNumber}`.toLowerCase()
    if (!issues.has(key)) issues.set(key, [])
    repositoryId(owner, repo)
    return issues.get(key) as IssueComment[]
  }
  const makeComment = (owner: string, repo: string, issueNumber: number, body: string, user: GitHubUser): IssueComment => {
    const id = nextCommentId++
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
    return {
      id,
      node_id: Buffer.from(`012:IssueComment${id}`).toString('base64').replace(/=+$/, ''),
      url: `${base}/repos/${owner}/${repo}/issues/comments/${id}`,
      html_url: `${web}/${owner}/${repo}/pull/${issueNumber}#issuecomment-${id}`,
      body,
      user: simpleUser(user, web, base),
      created_at: now,
      updated_at: now,
      issue_url: `${base}/repos/${owner}/${repo}/issues/${issueNumber}`,
      author_association: user.type === 'Bot' ? 'NONE' : 'CONTRIBUTOR',
      performed_via_github_app: null,
      reactions: {
        url: `${base}/repos/${owner}/${repo}/issues/comments/${id}/reactions`,
        total_count: 0,
        '+1': 0,
        '-1': 0,
        laugh: 0,
        hooray: 0,
        confused: 0,
        heart: 0,
        rocket: 0,
        eyes: 0
      }
    }
  }
  const findComment = (owner: string, repo: string, id: number): IssueComment | undefined => {
    const prefix = `${owner}/${repo}#`.toLowerCase()
    for (const [key, list] of issues) {
      const found = key.startsWith(prefix) ? list.find(comment => comment.id === id) : undefined
      if (found) return found
    }
    return undefined
  }

  const send = (response: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void => {
    const text = payload === undefined ? '' : JSON.stringify(payload)
    response.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-github-media-type': 'github.v3; format=json',
      'x-github-api-version-selected': '2022-11-28',
      'x-ratelimit-limit': '1000',
      'x-ratelimit-remaining': '999',
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
      'x-ratelimit-used': '1',
      'x-ratelimit-resource': 'core',
      'x-github-request-id': `0000:${requests.length.toString(16).toUpperCase()}:LOCAL`,
      ...headers
    })
    response.end(text)
  }
  const notFound = { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' }

  // GET …/issues/{n}/comments: page size 30 unless per_page (at most 100), Link header as GitHub builds it.
  const listComments = (response: ServerResponse, query: URLSearchParams, owner: string, repo: string, issueNumber: number): void => {
    const all = listOf(owner, repo, issueNumber)
    const perPage = Math.min(100, Math.max(1, Number(query.get('per_page')) || 30))
    const page = Math.max(1, Number(query.get('page')) || 1)
    const last = Math.max(1, Math.ceil(all.length / perPage))
    // GitHub's Link URLs name the repository by id, not owner/name.
    const link = (n: number): string => `${base}/repositories/${repositoryId(owner, repo)}/issues/${issueNumber}/comments?per_page=${perPage}&page=${n}`
    const rels: string[] = []
    if (page > 1) rels.push(`<${link(page - 1)}>; rel="prev"`)
    if (page < last) rels.push(`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`)
    if (page > 1) rels.push(`<${link(1)}>; rel="first"`)
    send(response, 200, all.slice((page - 1) * perPage, page * perPage), rels.length ? { link: rels.join(', ') } : {})
  }

  const validBody = (response: ServerResponse, raw: string): string | undefined => {
    let parsed: { body?: unknown }
    try {
      parsed = JSON.parse(raw) as { body?: unknown }
    } catch {
      send(response, 400, { message: 'Problems parsing JSON', documentation_url: DOCS, status: '400' })
      return undefined
    }
    if (typeof parsed.body !== 'string') {
      send(response, 422, { message: 'Invalid request.\n\n"body" wasn\'t supplied.', documentation_url: DOCS, status: '422' })
      return undefined
    }
    if (parsed.body.length > MAX_BODY) {
      send(response, 422, {
        message: 'Validation Failed',
        errors: [{ resource: 'IssueComment', code: 'custom', field: 'body', message: `body is too long (maximum is ${MAX_BODY} characters)` }],
        documentation_url: DOCS,
        status: '422'
      })
      return undefined
    }
    return parsed.body
  }

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const raw = await readBody(request)
    const method = request.method ?? 'GET'
    requests.push({ method, path: request.url ?? '/', headers: request.headers, body: raw })
    const url = new URL(request.url ?? '/', base)
    const auth = request.headers.authorization ?? ''
    if (auth !== `token ${options.token}` && auth !== `Bearer ${options.token}`) {
      return send(response, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' })
    }
    let match = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(url.pathname)
    if (match && method === 'GET') return listComments(response, url.searchParams, match[1], match[2], Number(match[3]))
    match = /^\/repositories\/(\d+)\/issues\/(\d+)\/comments$/.exec(url.pathname)
    if (match && method === 'GET') {
      const slug = slugOf(Number(match[1]))
      if (!slug) return send(response, 404, notFound)
      const [owner, repo] = slug.split('/')
      return listComments(response, url.searchParams, owner, repo, Number(match[2]))
    }
    match = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(url.pathname)
    if (match && method === 'POST') {
      if (writeFailure) return send(response, writeFailure, WRITE_FAILURES[writeFailure])
      const body = validBody(response, raw)
      if (body === undefined) return
      const [owner, repo, issueNumber] = [match[1], match[2], Number(match[3])]
      const comment = makeComment(owner, repo, issueNumber, body, ACTIONS_BOT)
      listOf(owner, repo, issueNumber).push(comment)
      return send(response, 201, comment, { location: comment.url })
    }
    match = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/.exec(url.pathname)
    if (match && method === 'PATCH') {
      if (writeFailure) return send(response, writeFailure, { ...WRITE_FAILURES[writeFailure], documentation_url: `${DOCS}#update-an-issue-comment` })
      const comment = findComment(match[1], match[2], Number(match[3]))
      if (!comment) return send(response, 404, notFound)
      const body = validBody(response, raw)
      if (body === undefined) return
      comment.body = body
      comment.updated_at = new Date(Math.max(Date.now(), Date.parse(comment.created_at) + 1000)).toISOString().replace(/\.\d{3}Z$/, 'Z')
      return send(response, 200, comment)
    }
    send(response, 404, notFound)
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(error => send(response, 500, { message: String(error) }))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    url: base,
    requests,
    comments: (owner, repo, issueNumber) => [...listOf(owner, repo, issueNumber)],
    seed: (owner, repo, issueNumber, bodies, user = OTHER_USER) => {
      const added = bodies.map(body => makeComment(owner, repo, issueNumber, body, user))
      listOf(owner, repo, issueNumber).push(...added)
      return added
    },
    failWrites: status => {
      writeFailure = status
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        // Octokit's fetch keeps connections alive; close them so jest sees no open handle.
        server.closeAllConnections()
        server.close(error => (error ? reject(error) : resolve()))
      })
  }
}
