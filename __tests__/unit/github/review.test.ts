import { COMMENT_LIMIT, renderReview, renderReviews, reviewMarker, type ContainerReview, type ReviewInput } from '../../../src/core/review.js'
import { patternNamed } from '../../support/patterns.js'

const web: ContainerReview = {
  container: 'web',
  user: '101',
  pattern: patternNamed('nonroot-sidecar'),
  reason: 'image user 101 → non-root; strategy sudo',
  imageBefore: 'nginxinc/nginx-unprivileged:1.23.1',
  imageAfter: '123456789012.dkr.ecr.eu-central-1.amazonaws.com/web@sha256:abc',
  agentImage: 'lacework/datacollector:latest-sidecar',
  alreadyInstrumented: false,
  warnings: []
}
const WEB_ROW =
  '| web | 101 | nonroot-sidecar | image user 101 → non-root; strategy sudo | nginxinc/nginx-unprivileged:1.23.1 → 123456789012.dkr.ecr.eu-central-1.amazonaws.com/web@sha256:abc | lacework/datacollector:latest-sidecar | — |'
const HEADER = [
  '| container | user | pattern | why | image before → after | agent image | warnings |',
  '| --- | --- | --- | --- | --- | --- | --- |'
]
const DIFF = ['--- a/deploy/web.json', '+++ b/deploy/web.json', '@@ -1,3 +1,3 @@', ' {', '-  "image": "web:1"', '+  "image": "web@sha256:abc"', ' }', ''].join('\n')

function input(overrides: Partial<ReviewInput> = {}): ReviewInput {
  return { taskDefinitionPath: 'deploy/web.json', containers: [web], diff: DIFF, changed: true, ...overrides }
}

describe('reviewMarker', () => {
  it('is a hidden HTML comment naming the path', () => {
    expect(reviewMarker('deploy/web.json')).toBe('<!-- lacework-fargate: deploy/web.json -->')
  })
  it('is the same however the path is spelled, and differs between files', () => {
    expect(reviewMarker('./deploy/web.json')).toBe('<!-- lacework-fargate: deploy/web.json -->')
    expect(reviewMarker('deploy\\web.json')).toBe('<!-- lacework-fargate: deploy/web.json -->')
    expect(reviewMarker('deploy/worker.json')).not.toBe(reviewMarker('deploy/web.json'))
  })
  it('cannot be closed early by the path', () => {
    expect(reviewMarker('a-->b\n.json')).toBe('<!-- lacework-fargate: a--%3Eb .json -->')
  })
})

describe('renderReview', () => {
  it('renders marker, heading, decision table and the diff', () => {
    expect(renderReview(input())).toBe(
      [
        '<!-- lacework-fargate: deploy/web.json -->',
        '### Lacework agent: deploy/web.json',
        '',
        ...HEADER,
        WEB_ROW,
        '',
        '```diff',
        '--- a/deploy/web.json',
        '+++ b/deploy/web.json',
        '@@ -1,3 +1,3 @@',
        ' {',
        '-  "image": "web:1"',
        '+  "image": "web@sha256:abc"',
        ' }',
        '```',
        ''
      ].join('\n')
    )
  })

  it('escapes pipes, backticks and markup in cells; shows root by default, unchanged images, no agent image', () => {
    const odd: ContainerReview = {
      container: 'a|b',
      user: '',
      pattern: patternNamed('root-sidecar'),
      reason: 'image has no USER',
      imageBefore: 'web:1',
      imageAfter: 'web:1',
      alreadyInstrumented: true,
      warnings: ['uses `sh` | pipes', 'two\nlines <b>']
    }
    const body = renderReview(input({ containers: [odd], diff: '', changed: false }))
    expect(body.split('\n')[5]).toBe('| a\\|b | root (default) | root-sidecar (already instrumented) | image has no USER | web:1 (unchanged) | — | uses \\`sh\\` \\| pipes<br>two<br>lines \\<b\\> |')
  })

  it('says "no change" instead of a diff block when nothing changed', () => {
    const expected = ['<!-- lacework-fargate: deploy/web.json -->', '### Lacework agent: deploy/web.json', '', ...HEADER, WEB_ROW, '', 'No change to the task definition.', ''].join('\n')
    expect(renderReview(input({ diff: '', changed: false }))).toBe(expected)
    expect(renderReview(input({ diff: '', changed: true }))).toBe(expected)
  })

  it('fences a diff containing ``` with a longer fence', () => {
    const diff = '--- a/t.json\n+++ b/t.json\n@@ -1 +1 @@\n-"a"\n+"```x```"\n'
    const lines = renderReview(input({ diff })).split('\n')
    expect(lines.slice(7)).toEqual(['````diff', '--- a/t.json', '+++ b/t.json', '@@ -1 +1 @@', '-"a"', '+"```x```"', '````', ''])
  })

  it('masks secrets everywhere in the body', () => {
    const secret = 'lw_0123456789abcdef0123456789abcdef'
    const body = renderReview(
      input({
        diff: `--- a/t.json\n+++ b/t.json\n@@ -1 +1 @@\n-{}\n+{"value": "${secret}"}\n`,
        containers: [{ ...web, warnings: [`token ${secret} is plain text`] }],
        secrets: [secret]
      })
    )
    expect(body).not.toContain(secret)
    expect(body).toContain('+{"value": "***"}')
    expect(body).toContain('| token \\*\\*\\* is plain text |')
  })

  describe('over the limit', () => {
    // A hundred diff lines of exactly 10 characters each ('+line-0001' …); the run link is padded so that the
    // hand-written three-line body below is exactly 1,000 characters long.
    const lines = Array.from({ length: 100 }, (_, i) => `+line-${String(i + 1).padStart(4, '0')}`)
    const runUrl = (pad: number): string => `https://github.com/acme/svc/actions/runs/7?${'p'.repeat(pad)}`
    const threeKept = (pad: number, limit: string): string =>
      [
        '<!-- lacework-fargate: deploy/web.json -->',
        '### Lacework agent: deploy/web.json',
        '',
        ...HEADER,
        WEB_ROW,
        '',
        '```diff',
        '+line-0001',
        '+line-0002',
        '+line-0003',
        '```',
        '',
        `_Diff shortened to fit the ${limit}-character limit: 97 lines of 100 left out. The full diff is in the [run's summary](${runUrl(pad)})._`,
        ''
      ].join('\n')
    const pad = 1000 - threeKept(0, '1,000').length
    const small = input({ diff: lines.join('\n') + '\n', runUrl: runUrl(pad) })

    it('cuts whole diff lines, keeps the table, says how many were left out and links to the run', () => {
      expect(threeKept(pad, '1,000')).toHaveLength(1000)
      expect(renderReview(small, 1000)).toBe(threeKept(pad, '1,000'))
    })

    it('keeps one more line only when its 11 characters fit', () => {
      expect(renderReview(small, 1010)).toBe(threeKept(pad, '1,010'))
      const four = renderReview(small, 1011)
      expect(four.split('\n').slice(7, 13)).toEqual(['```diff', '+line-0001', '+line-0002', '+line-0003', '+line-0004', '```'])
      expect(four).toContain('_Diff shortened to fit the 1,011-character limit: 96 lines of 100 left out.')
      expect(four).toHaveLength(1011)
    })

    it('stays within GitHub\'s 65,536 characters for a huge diff, with the table intact', () => {
      const total = 5000
      const lines = Array.from({ length: total }, (_, i) => `+    "line-${i}": "${'x'.repeat(40)}",`)
      const body = renderReview(input({ diff: lines.join('\n') + '\n', runUrl: 'https://github.com/acme/svc/actions/runs/7' }))
      expect(body.length).toBeLessThanOrEqual(COMMENT_LIMIT)
      expect(body.split('\n').slice(0, 7)).toEqual(['<!-- lacework-fargate: deploy/web.json -->', '### Lacework agent: deploy/web.json', '', ...HEADER, WEB_ROW, ''])
      const kept = body.split('\n').slice(8, body.split('\n').indexOf('```', 8))
      expect(kept).toEqual(lines.slice(0, kept.length))
      expect(body).toContain(`${(total - kept.length).toLocaleString('en-US')} lines of 5,000 left out`)
      // Maximal: one more line (and its newline) would not have fit.
      expect(body.length + lines[kept.length].length + 1).toBeGreaterThan(COMMENT_LIMIT)
    })

    it('sizes the cut after masking, when a short secret makes the text longer', () => {
      const lines = Array.from({ length: 200 }, () => '+qqqqqqqqqq')
      const body = renderReview(input({ diff: lines.join('\n') + '\n', secrets: ['q'] }), 2000)
      expect(body.length).toBeLessThanOrEqual(2000)
      expect(body).not.toContain('q')
      expect(body).toContain('+******************************')
    })

    it('shortens the table by whole rows only when the table alone is over the limit', () => {
      const many = Array.from({ length: 50 }, (_, i) => ({ ...web, container: `c${i}`, warnings: ['w'.repeat(100)] }))
      const body = renderReview(input({ containers: many }), 3000)
      expect(body.length).toBeLessThanOrEqual(3000)
      expect(body.startsWith('<!-- lacework-fargate: deploy/web.json -->\n### Lacework agent: deploy/web.json\n')).toBe(true)
      expect(body.endsWith("\n\n_Review shortened to fit the 3,000-character limit. The full review is in the run's summary._\n")).toBe(true)
      const rows = body.split('\n').filter(line => /^\| c\d/.test(line))
      expect(rows.length).toBeGreaterThan(0)
      expect(rows.length).toBeLessThan(50)
      expect(rows.every(line => line.endsWith(`| ${'w'.repeat(100)} |`))).toBe(true)
    })
  })
})

describe('renderReviews', () => {
  const one = (path: string, diffLines: number): ReviewInput => ({
    taskDefinitionPath: path,
    containers: [{ container: 'web', user: '101', pattern: patternNamed('nonroot-sidecar'), reason: 'r', imageBefore: 'a', imageAfter: 'b', alreadyInstrumented: false, warnings: [] }],
    diff: Array.from({ length: diffLines }, (_, i) => `+line ${i} ${'x'.repeat(40)}`).join('\n') + '\n',
    changed: true
  })

  it('one collapsible section per file under one marker', () => {
    const body = renderReviews('deploy/**/task.json', [one('deploy/a/task.json', 2), one('deploy/b/task.json', 2)])
    expect(body.split('\n')[0]).toBe('<!-- lacework-fargate: deploy/**/task.json -->')
    expect(body.split('\n')[1]).toBe('### Lacework agent: 2 task definitions, 2 changed')
    expect(body.match(/<details><summary>/g)).toHaveLength(2)
    expect(body).toContain('<details><summary>deploy/a/task.json: nonroot-sidecar</summary>')
    expect(body.match(/<!-- lacework-fargate:/g)).toHaveLength(1)
  })

  it('stays within the limit, every table kept', () => {
    const inputs = Array.from({ length: 5 }, (_, i) => one(`deploy/${i}/task.json`, 3000))
    const body = renderReviews('deploy/*/task.json', inputs)
    expect(body.length).toBeLessThanOrEqual(65536)
    expect(body.match(/\| web \| 101 \|/g)).toHaveLength(5)
  })
})

describe('the task diagram in the review', () => {
  const diagram = ['```mermaid', 'flowchart LR', '  c0["web"]', '```'].join('\n')

  it('sits between the table and the diff', () => {
    const lines = renderReview(input({ diagrams: [diagram] })).split('\n')
    expect(lines.indexOf('```mermaid')).toBe(lines.indexOf(WEB_ROW) + 2)
    expect(lines.indexOf('```diff')).toBe(lines.indexOf('```mermaid') + 5)
  })

  it('is kept whole when the diff is shortened to fit the comment', () => {
    const diff = Array.from({ length: 2000 }, (_, i) => `+  "line": ${i}`).join('\n')
    const body = renderReview(input({ diff, diagrams: [diagram] }), 8000)
    expect(body.length).toBeLessThanOrEqual(8000)
    expect(body).toContain(`\n${diagram}\n`)
    expect(body).toContain(WEB_ROW)
    expect(body).toMatch(/_Diff shortened to fit the 8,000-character limit: \d[\d,]* lines of 2,000 left out/)
  })
})
