// Reference for npm versions: node-semver (path of the installed package in argv[2]), loose mode.
// Protocol: see ref_apt.py.
'use strict'
const semver = require(process.argv[2])
const lines = require('fs').readFileSync(0, 'utf8').split('\n').filter(Boolean)
const parse = (v) => { try { return new semver.SemVer(v, { loose: true }) } catch (e) { return null } }
const out = lines.map((line) => {
  const [a, b] = line.split(' ').map((f) => Buffer.from(f.slice(1), 'hex').toString('utf8'))
  const pa = parse(a)
  if (pa === null) return 'EA'
  const pb = parse(b)
  if (pb === null) return 'EB'
  return String(pa.compare(pb))
})
process.stdout.write(out.join('\n') + '\n')
