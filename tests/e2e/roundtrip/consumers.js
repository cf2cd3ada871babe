// npm dotenv as a consumer of vaultctl's dotenv export, for check.sh.
//   node consumers.js parse FILE OUT          dotenv.parse(file contents)
//   node consumers.js config FILE OUT NAME... dotenv.config(), process.env
// Each value read is written to OUT/NAME as UTF-8.
'use strict'
const fs = require('fs')
const path = require('path')
const dotenv = require('dotenv')

const [cmd, file, out, ...names] = process.argv.slice(2)
const put = (name, value) =>
  fs.writeFileSync(path.join(out, name), Buffer.from(value, 'utf8'))

if (cmd === 'parse') {
  const parsed = dotenv.parse(fs.readFileSync(file))
  for (const name of Object.keys(parsed)) put(name, parsed[name])
} else if (cmd === 'config') {
  const res = dotenv.config({ path: file, quiet: true })
  if (res.error) throw res.error
  for (const name of names) {
    if (process.env[name] !== undefined) put(name, process.env[name])
  }
} else {
  console.error('usage: consumers.js parse|config FILE OUT [NAME...]')
  process.exit(2)
}
