import { JsonDocument } from '../../../src/core/json-document.js'

function edit(text: string, change: (doc: JsonDocument) => void): string {
  const doc = JsonDocument.parse('f.json', text)
  change(doc)
  JSON.parse(doc.text) // every edit leaves valid JSON
  return doc.text
}

describe('JsonDocument edits only what changes', () => {
  const inline = '{\n  "env": [{ "name": "A", "value": "1" }, { "name": "T", "value": "x" }],\n  "x": { "a": 1 }\n}\n'

  it('removes the last element of an inline array with its comma', () => {
    expect(edit(inline, doc => doc.remove(['env', 1]))).toBe('{\n  "env": [{ "name": "A", "value": "1" }],\n  "x": { "a": 1 }\n}\n')
  })
  it('removes the first element and the only element', () => {
    expect(edit(inline, doc => doc.remove(['env', 0]))).toBe('{\n  "env": [{ "name": "T", "value": "x" }],\n  "x": { "a": 1 }\n}\n')
    expect(edit('{"a": [1]}', doc => doc.remove(['a', 0]))).toBe('{"a": []}')
  })
  it('appends inline to an inline array and on a new line to a multi-line one', () => {
    expect(edit(inline, doc => doc.append(['env'], { name: 'U', value: '2' }))).toContain(
      '"env": [{ "name": "A", "value": "1" }, { "name": "T", "value": "x" }, { "name": "U", "value": "2" }],'
    )
    expect(edit('{\n    "a": [\n        1\n    ]\n}', doc => doc.append(['a'], { b: 2 }))).toBe(
      '{\n    "a": [\n        1,\n        {\n            "b": 2\n        }\n    ]\n}'
    )
  })
  it('creates missing ancestors, indented like the file', () => {
    expect(edit('{\n\t"name": "web"\n}', doc => doc.append(['linuxParameters', 'capabilities', 'add'], 'SYS_PTRACE'))).toBe(
      '{\n\t"name": "web",\n\t"linuxParameters": {\n\t\t"capabilities": {\n\t\t\t"add": [\n\t\t\t\t"SYS_PTRACE"\n\t\t\t]\n\t\t}\n\t}\n}'
    )
  })
  it('fills an empty object', () => {
    expect(edit('{\n  "c": {}\n}', doc => doc.set(['c', 'k'], 'v'))).toBe('{\n  "c": {\n    "k": "v"\n  }\n}')
  })
  it('leaves the text alone when the value is already there, whatever its key order', () => {
    const text = '{"v": {"readOnly": true, "sourceContainer": "s"}}'
    expect(edit(text, doc => doc.set(['v'], { sourceContainer: 's', readOnly: true }))).toBe(text)
  })
  it('locates a node for annotations, or its nearest ancestor', () => {
    const doc = JsonDocument.parse('f.json', '{\n  "containerDefinitions": [\n    { "name": "web" }\n  ]\n}')
    expect(doc.locate(['containerDefinitions', 0])).toEqual({ file: 'f.json', line: 3, column: 5 })
    expect(doc.locate(['containerDefinitions', 0, 'missing'])).toEqual({ file: 'f.json', line: 3, column: 5 })
    expect(doc.locate(['containerDefinitions'])).toEqual({ file: 'f.json', line: 2, column: 3 })
  })
})

describe('JsonDocument and null, as consoles write unset fields', () => {
  it('replaces a null value in place, and a null ancestor of a missing path', () => {
    expect(edit('{\n  "user": null,\n  "x": 1\n}', doc => doc.set(['user'], 'root'))).toBe('{\n  "user": "root",\n  "x": 1\n}')
    expect(edit('{\n  "linuxParameters": null\n}', doc => doc.append(['linuxParameters', 'capabilities', 'add'], 'SYS_PTRACE'))).toBe(
      '{\n  "linuxParameters": {\n    "capabilities": {\n      "add": [\n        "SYS_PTRACE"\n      ]\n    }\n  }\n}'
    )
    expect(edit('{\n  "environment": null\n}', doc => doc.append(['environment'], { name: 'A', value: '1' }))).toBe(
      '{\n  "environment": [\n    {\n      "name": "A",\n      "value": "1"\n    }\n  ]\n}'
    )
  })
})
