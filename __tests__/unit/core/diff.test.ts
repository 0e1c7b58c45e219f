import { renderDiff } from '../../../src/core/diff.js'

describe('renderDiff', () => {
  it('shows only the changed lines with their context, and masks secrets', () => {
    const before = '{\n  "name": "web",\n  "image": "web:1"\n}\n'
    const after = '{\n  "name": "web",\n  "image": "web:2",\n  "token": "s3cr3t-token-value"\n}\n'
    expect(renderDiff('task.json', before, after, ['s3cr3t-token-value'])).toBe(
      [
        '--- a/task.json',
        '+++ b/task.json',
        '@@ -1,4 +1,5 @@',
        ' {',
        '   "name": "web",',
        '-  "image": "web:1"',
        '+  "image": "web:2",',
        '+  "token": "***"',
        ' }',
        ''
      ].join('\n')
    )
  })
  it('is empty when nothing changed', () => {
    expect(renderDiff('t.json', 'x', 'x')).toBe('')
  })
})
