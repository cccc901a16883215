// Validates a HAR file with Debian's node-har-validator (the HAR 1.2
// JSON Schema): node validate.js FILE prints "valid" or the errors and
// exits 1.
const fs = require('fs');
let validator;
try { validator = require('har-validator'); } catch (e) { validator = require('/usr/share/nodejs/har-validator'); }
validator.har(JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))).then(
  () => console.log('valid'),
  (err) => { console.log(JSON.stringify(err.errors || String(err), null, 1)); process.exit(1); });
