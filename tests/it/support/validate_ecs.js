// Checks Elastic Common Schema documents against Elastic's own field definitions
// (`EcsFlat` of the @elastic/ecs npm package, generated from the ECS repository).
//
//     NODE_PATH=<node_modules> node validate_ecs.js DOC.json... [--custom PREFIX]...
//
// Every field outside the custom prefixes must be an ECS field; its value must have the
// field's type (keyword: string, date: an ISO 8601 time, long: an integer, float: a number,
// ip: an IP address, object: an object); fields ECS normalises to arrays must be arrays, and
// fields with allowed or expected values must use them. Prints a JSON summary; exits 1 with
// the problems on stderr.
const net = require('net');
const { EcsFlat, EcsVersion } = require('@elastic/ecs');

const args = process.argv.slice(2);
const custom = [];
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--custom') custom.push(args[++i]);
  else files.push(args[i]);
}

const problems = [];
const checked = new Set();

function scalarOk(type, v) {
  switch (type) {
    case 'keyword': case 'constant_keyword': case 'wildcard': case 'text': case 'match_only_text':
      return typeof v === 'string';
    case 'date':
      return typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(v) && !isNaN(Date.parse(v));
    case 'long': case 'integer': case 'short': case 'byte': case 'unsigned_long':
      return Number.isInteger(v);
    case 'float': case 'double': case 'scaled_float': case 'half_float':
      return typeof v === 'number';
    case 'ip':
      return typeof v === 'string' && net.isIP(v) !== 0;
    case 'boolean':
      return typeof v === 'boolean';
    default:
      return false;
  }
}

function visit(file, path, value) {
  if (custom.some((c) => path === c || path.startsWith(c + '.'))) return;
  const def = EcsFlat[path];
  if (def && (def.type === 'object' || def.type === 'flattened')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push(`${file}: ${path} must be an object`);
      return;
    }
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== 'string') problems.push(`${file}: ${path}.${k} must be a keyword string`);
    }
    checked.add(path);
    return;
  }
  if (!def && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) visit(file, path ? `${path}.${k}` : k, v);
    return;
  }
  if (!def) {
    problems.push(`${file}: ${path} is not an ECS field`);
    return;
  }
  checked.add(path);
  const isArray = Array.isArray(value);
  if ((def.normalize || []).includes('array') && !isArray) {
    problems.push(`${file}: ${path} must be an array`);
  }
  const values = isArray ? value : [value];
  for (const v of values) {
    if (!scalarOk(def.type, v)) {
      problems.push(`${file}: ${path} = ${JSON.stringify(v)} is not a ${def.type}`);
    }
    const allowed = (def.allowed_values || []).map((a) => a.name).concat(def.expected_values || []);
    if (allowed.length && !allowed.includes(v)) {
      problems.push(`${file}: ${path} = ${JSON.stringify(v)} is not one of ${allowed.join(', ')}`);
    }
  }
}

for (const file of files) {
  const text = require('fs').readFileSync(file, 'utf8');
  if (text.includes('\n')) problems.push(`${file}: the document is not one line`);
  visit(file, '', JSON.parse(text));
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(JSON.stringify({ ecs: EcsVersion, documents: files.length, fields: [...checked].sort() }));
