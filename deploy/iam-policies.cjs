// IAM's size limits, applied when packaging (a local plugin: serverless.yml `plugins`).
//
// The functions' permissions are scoped per database (deploy/deployment-config.cjs), so a role's
// policies grow with the deployment. IAM limits what a role may hold, and CloudFormation finds out
// only when it creates the role, halfway through a deployment:
//   - its inline policies together: 10,240 characters;
//   - each customer managed policy: 6,144 characters;
//   - attached managed policies: 10 per role (20 with a quota increase; 10 is what every account has).
// IAM counts the policy JSON without whitespace, after CloudFormation has filled in the ARNs.
//
// Before anything is built (`before:package:initialize`), every role declared in serverless.yml is
// laid out to fit: a role whose inline policies fit keeps them as written. Otherwise its largest
// inline policy (then the next, while they do not fit) keeps as many statements as still fit inline,
// and the rest move, unchanged, into AWS::IAM::ManagedPolicy resources of at most 6,144 characters
// each, attached to that role only (`Roles`) and made a dependency of its function, so the function
// never exists without them.
// A statement too large for one policy is split by resources (the same actions and condition over
// part of the resources each): what the role may do is exactly what serverless.yml declares.
// A role that still cannot fit stops packaging with exit status 2 (the status of a bad config),
// naming the role, its size, the limit and how many of the configured databases would fit. The
// finished template is checked again against the same limits (`after:...mergeCustomProviderResources`),
// so a role or policy added by anything else is held to them too.
'use strict';

const INLINE_AGGREGATE_LIMIT = 10_240;
const MANAGED_POLICY_LIMIT = 6_144;
const MANAGED_POLICIES_PER_ROLE = 10;
// Packing stops short of IAM's limits: the size is our count of what IAM counts (the documents without
// whitespace, intrinsics bounded), and a policy filled to the last character would leave no room for an
// error in that count. The check after packing holds the template to the limits themselves.
const INLINE_PACKING_TARGET = Math.floor(INLINE_AGGREGATE_LIMIT * 0.95);
const MANAGED_PACKING_TARGET = Math.floor(MANAGED_POLICY_LIMIT * 0.95);
const POLICY_VERSION = '2012-10-17';
/**
 * A Ref, GetAtt or other intrinsic whose value the template does not spell out (a topic, table or key
 * ARN) counts as this many characters: more than any ARN or name this stack's policies refer to.
 */
const UNKNOWN_VALUE_BOUND = 256;
const ACCOUNT_ID = '123456789012'; // Always 12 digits.

/** The partition a region is in (the config accepts commercial, China and GovCloud regions). */
function partitionOf(region) {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** A value as CloudFormation hands it to IAM, as far as size goes: intrinsics resolved or bounded. */
function resolve(value, context) {
  if (Array.isArray(value)) return value.map((v) => resolve(v, context));
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) return resolveIntrinsic(keys[0], value[keys[0]], context);
  return Object.fromEntries(keys.map((k) => [k, resolve(value[k], context)]));
}

function pseudo(name, context) {
  switch (name) {
    case 'AWS::Partition':
      return partitionOf(context.region);
    case 'AWS::Region':
      return context.region;
    case 'AWS::AccountId':
      return ACCOUNT_ID;
    case 'AWS::URLSuffix':
      return context.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
    default:
      return undefined;
  }
}

/**
 * The ARN a Ref or GetAtt Arn of a stack resource resolves to, where the template names the resource
 * (functions, tables, topics, keys); undefined otherwise.
 */
function stackArn(logicalId, attribute, context) {
  const resource = context.resources?.[logicalId];
  const properties = resource?.Properties ?? {};
  const arn = (service, rest) => `arn:${partitionOf(context.region)}:${service}:${context.region}:${ACCOUNT_ID}:${rest}`;
  const named = (key) => (typeof properties[key] === 'string' ? properties[key] : undefined);
  switch (`${resource?.Type} ${attribute}`) {
    case 'AWS::Lambda::Function Arn':
      return named('FunctionName') && arn('lambda', `function:${named('FunctionName')}`);
    case 'AWS::DynamoDB::Table Arn':
      return named('TableName') && arn('dynamodb', `table/${named('TableName')}`);
    case 'AWS::SNS::Topic Ref':
      return named('TopicName') && arn('sns', named('TopicName'));
    case 'AWS::KMS::Key Arn':
      return arn('kms', `key/${'0'.repeat(36)}`);
    default:
      return undefined;
  }
}

function resolveIntrinsic(name, argument, context) {
  const unknown = 'x'.repeat(UNKNOWN_VALUE_BOUND);
  if (name === 'Ref') return pseudo(argument, context) ?? stackArn(argument, 'Ref', context) ?? unknown;
  if (name === 'Fn::GetAtt') {
    const [logicalId, attribute] = Array.isArray(argument) ? argument : String(argument).split('.');
    return stackArn(logicalId, attribute, context) ?? unknown;
  }
  if (name === 'Fn::Sub') {
    const [text, variables = {}] = Array.isArray(argument) ? argument : [argument];
    if (typeof text !== 'string') return unknown;
    return text.replace(/\$\{([^}]*)\}/g, (whole, inner) => {
      if (inner.startsWith('!')) return `\${${inner.slice(1)}}`;
      const dot = inner.indexOf('.');
      if (!Object.hasOwn(variables, inner) && dot > 0) return stackArn(inner.slice(0, dot), inner.slice(dot + 1), context) ?? unknown;
      if (Object.hasOwn(variables, inner)) {
        const resolved = resolve(variables[inner], context);
        return typeof resolved === 'string' ? resolved : unknown;
      }
      return pseudo(inner, context) ?? unknown;
    });
  }
  if (name === 'Fn::Join' && Array.isArray(argument) && Array.isArray(argument[1])) {
    const parts = argument[1].map((p) => resolve(p, context));
    if (parts.every((p) => typeof p === 'string')) return parts.join(argument[0]);
  }
  return unknown;
}

/** The size IAM counts for a policy document: its JSON without whitespace, intrinsics resolved. */
function policySize(document, context) {
  return JSON.stringify(resolve(document, context)).length;
}

const asList = (value) => (value === undefined ? [] : [value].flat());

/**
 * The same permissions in fewer characters: per effect and condition, each resource is listed once,
 * in one statement with every action allowed on it; resources allowed the same actions share a
 * statement. Exactly the same (action, resource, condition) combinations are allowed as before.
 * Statements with a Sid, a Principal, NotAction or NotResource are kept as they are.
 */
function compactStatements(statements) {
  const groups = new Map();
  const kept = [];
  const order = [];
  for (const statement of statements) {
    if (statement.Sid !== undefined || statement.Principal !== undefined || statement.NotAction !== undefined || statement.NotResource !== undefined || statement.Resource === undefined) {
      order.push({ kept: statement });
      kept.push(statement);
      continue;
    }
    const key = JSON.stringify([statement.Effect, statement.Condition ?? null]);
    let group = groups.get(key);
    if (!group) {
      group = { Effect: statement.Effect, Condition: statement.Condition, resources: new Map(), actionOrder: [] };
      groups.set(key, group);
      order.push({ group });
    }
    for (const action of asList(statement.Action)) if (!group.actionOrder.includes(action)) group.actionOrder.push(action);
    for (const resource of asList(statement.Resource)) {
      const resourceKey = JSON.stringify(resource);
      if (!group.resources.has(resourceKey)) group.resources.set(resourceKey, { resource, actions: new Set() });
      for (const action of asList(statement.Action)) group.resources.get(resourceKey).actions.add(action);
    }
  }
  return order.flatMap((entry) => {
    if (entry.kept) return [entry.kept];
    const { group } = entry;
    const byActions = new Map();
    for (const { resource, actions } of group.resources.values()) {
      const sorted = group.actionOrder.filter((a) => actions.has(a));
      const key = JSON.stringify(sorted);
      if (!byActions.has(key)) byActions.set(key, { actions: sorted, resources: [] });
      byActions.get(key).resources.push(resource);
    }
    return [...byActions.values()].map(({ actions, resources }) => ({
      Effect: group.Effect,
      Action: actions,
      Resource: resources,
      ...(group.Condition === undefined ? {} : { Condition: group.Condition }),
    }));
  });
}

/**
 * Packs statements into policy documents: the first may hold `firstCapacity` characters, every other
 * `MANAGED_POLICY_LIMIT`. A statement that does not fit is split by resources. Returns the statement
 * lists, one per document (the first may be empty).
 */
function packStatements(statements, firstCapacity, context) {
  const documentBase = policySize({ Version: POLICY_VERSION, Statement: [] }, context);
  const bins = [];
  let current;
  let used;
  let capacity = firstCapacity;
  const open = () => {
    current = [];
    bins.push(current);
    used = documentBase;
  };
  const next = () => {
    open();
    capacity = MANAGED_PACKING_TARGET;
  };
  open();
  for (const statement of statements) {
    const resources = Array.isArray(statement.Resource) && statement.Resource.length > 0 ? statement.Resource : undefined;
    if (!resources) {
      const size = policySize(statement, context);
      if (used + (current.length ? 1 : 0) + size > capacity) next();
      if (documentBase + size > capacity) throw new Error(`an IAM statement of ${size} characters cannot fit in one policy: ${JSON.stringify(statement).slice(0, 200)}`);
      used += (current.length ? 1 : 0) + size;
      current.push(statement);
      continue;
    }
    const skeleton = policySize({ ...statement, Resource: [] }, context);
    let part;
    for (const resource of resources) {
      const item = policySize(resource, context);
      if (part && used + 1 + item <= capacity) {
        part.Resource.push(resource);
        used += 1 + item;
        continue;
      }
      const cost = (current.length ? 1 : 0) + skeleton + item;
      if (used + cost > capacity) {
        next();
        if (documentBase + skeleton + item > capacity) throw new Error(`an IAM statement with one resource is ${skeleton + item} characters: no policy can hold it`);
      }
      part = { ...statement, Resource: [resource] };
      used += (current.length ? 1 : 0) + skeleton + item;
      current.push(part);
    }
  }
  return bins;
}

const isRole = (resource) => resource?.Type === 'AWS::IAM::Role';
const refersTo = (list, logicalId) => asList(list).some((r) => r?.Ref === logicalId);

/** What IAM holds for one role in a template: its inline documents and its managed policies. */
function roleUsage(resources, roleId, context) {
  const role = resources[roleId];
  const inline = asList(role.Properties?.Policies).map((p) => ({ name: p.PolicyName, size: policySize(p.PolicyDocument, context) }));
  const managed = asList(role.Properties?.ManagedPolicyArns).map((arn) => ({ name: JSON.stringify(arn), size: undefined }));
  for (const [id, resource] of Object.entries(resources)) {
    const properties = resource?.Properties ?? {};
    // AWS::IAM::Policy and AWS::IAM::RolePolicy add inline policies to the roles they name.
    if (resource?.Type === 'AWS::IAM::Policy' && refersTo(properties.Roles, roleId)) inline.push({ name: id, size: policySize(properties.PolicyDocument, context) });
    if (resource?.Type === 'AWS::IAM::RolePolicy' && properties.RoleName?.Ref === roleId) inline.push({ name: id, size: policySize(properties.PolicyDocument, context) });
    if (resource?.Type === 'AWS::IAM::ManagedPolicy' && refersTo(properties.Roles, roleId)) {
      if (!managed.some((m) => m.name === JSON.stringify({ Ref: id }))) managed.push({ name: id, size: policySize(properties.PolicyDocument, context) });
    }
  }
  return { inline, inlineTotal: inline.reduce((sum, p) => sum + p.size, 0), managed };
}

/** IAM's limits this role's policies break in `resources` (empty: none). */
function roleProblems(resources, roleId, context) {
  const usage = roleUsage(resources, roleId, context);
  const problems = [];
  if (usage.inlineTotal > INLINE_AGGREGATE_LIMIT) {
    problems.push(`its inline policies are ${usage.inlineTotal} characters together (${usage.inline.map((p) => `${p.name} ${p.size}`).join(', ')}); IAM allows ${INLINE_AGGREGATE_LIMIT}`);
  }
  for (const policy of usage.managed.filter((m) => m.size !== undefined && m.size > MANAGED_POLICY_LIMIT)) {
    problems.push(`its managed policy ${policy.name} is ${policy.size} characters; IAM allows ${MANAGED_POLICY_LIMIT}`);
  }
  if (usage.managed.length > MANAGED_POLICIES_PER_ROLE) {
    const total = usage.inlineTotal + usage.managed.reduce((sum, m) => sum + (m.size ?? 0), 0);
    problems.push(`it would need ${usage.managed.length} managed policies (its policies are ${total} characters in all); IAM attaches at most ${MANAGED_POLICIES_PER_ROLE} to a role`);
  }
  return problems;
}

/**
 * Lays one role out to fit IAM's limits (see the top of this file), changing `resources` in place:
 * while its inline policies pass the limit, the largest one not yet split keeps what still fits inline
 * and the rest moves into managed policies. Returns the logical ids of the managed policies it added.
 */
function layOutRole(resources, roleId, context) {
  const role = resources[roleId];
  const added = [];
  const split = new Set();
  for (;;) {
    const usage = roleUsage(resources, roleId, context);
    if (usage.inlineTotal <= INLINE_PACKING_TARGET) return added;
    const policies = asList(role.Properties.Policies);
    const size = (p) => policySize(p.PolicyDocument, context);
    const largest = policies.filter((p) => !split.has(p.PolicyName)).reduce((best, p) => (best === undefined || size(p) > size(best) ? p : best), undefined);
    if (!largest) return added;
    split.add(largest.PolicyName);
    const roomInline = INLINE_PACKING_TARGET - (usage.inlineTotal - size(largest));
    const [inline, ...managed] = packStatements(asList(largest.PolicyDocument.Statement), roomInline, context);
    role.Properties.Policies = policies.flatMap((p) => (p !== largest ? [p] : inline.length ? [{ ...p, PolicyDocument: { ...p.PolicyDocument, Statement: inline } }] : []));
    if (role.Properties.Policies.length === 0) delete role.Properties.Policies;
    managed.forEach((statements, index) => {
      const id = `${roleId}Managed${added.length + 1}`;
      resources[id] = {
        Type: 'AWS::IAM::ManagedPolicy',
        Properties: {
          Description: `Part ${index + 1} of ${managed.length} of the ${largest.PolicyName} policy of ${roleId}, too large to keep inline (deploy/iam-policies.cjs).`,
          Roles: [{ Ref: roleId }],
          PolicyDocument: { Version: POLICY_VERSION, Statement: statements },
        },
      };
      added.push(id);
    });
  }
}

/** Lays out every role in `resources`; returns the managed policies added, by role. */
function layOutRoles(resources, context) {
  const added = {};
  for (const [id, resource] of Object.entries(resources)) {
    if (!isRole(resource)) continue;
    const policies = layOutRole(resources, id, context);
    if (policies.length) added[id] = policies;
  }
  return added;
}

const upperFirst = (name) => `${name.charAt(0).toUpperCase()}${name.slice(1)}`;

class IamPolicySize {
  constructor(serverless, _options, utils) {
    this.serverless = serverless;
    this.log = utils?.log;
    this.hooks = {
      'before:package:initialize': () => this.layOut(),
      'after:aws:package:finalize:mergeCustomProviderResources': () => this.checkTemplate(),
    };
  }

  /** What sizes depend on: the stack's region, and its resources (for the ARNs of Refs and GetAtts). */
  get context() {
    const resources = { ...this.serverless.service.resources?.Resources, ...this.serverless.service.provider.compiledCloudFormationTemplate?.Resources };
    return { region: this.serverless.service.provider.region, resources };
  }

  /** Roles in serverless.yml `resources`: laid out, and checked with the databases that would fit. */
  layOut() {
    const service = this.serverless.service;
    if (!service.resources?.Resources) return;
    const resources = service.resources.Resources;
    this.declared = structuredClone(resources);
    const added = layOutRoles(resources, this.context);
    // The function waits for its managed policies (CloudFormation attaches them after the role exists).
    const extensions = (service.resources.extensions ??= {});
    for (const [name, fn] of Object.entries(service.functions ?? {})) {
      const policies = added[fn.role];
      if (!policies) continue;
      const id = `${upperFirst(name)}LambdaFunction`;
      extensions[id] = { ...extensions[id], DependsOn: [...asList(extensions[id]?.DependsOn), ...policies] };
    }
    const failures = Object.keys(resources)
      .filter((id) => isRole(resources[id]))
      .map((id) => ({ id, problems: roleProblems(resources, id, this.context) }))
      .filter((f) => f.problems.length);
    if (failures.length) this.stop(failures.map((f) => this.describe(f.id, f.problems, true)));
    for (const [role, policies] of Object.entries(added)) this.log?.verbose?.(`${role}: ${policies.length} managed policies (IAM's inline limit is ${INLINE_AGGREGATE_LIMIT} characters per role)`);
  }

  /** The finished template, whatever added to it. */
  checkTemplate() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    const failures = Object.keys(resources)
      .filter((id) => isRole(resources[id]))
      .map((id) => ({ id, problems: roleProblems(resources, id, this.context) }))
      .filter((f) => f.problems.length);
    if (failures.length) this.stop(failures.map((f) => this.describe(f.id, f.problems, false)));
  }

  describe(roleId, problems, countDatabases) {
    const functions = Object.entries(this.serverless.service.functions ?? {}).filter(([, fn]) => fn.role === roleId).map(([name]) => name);
    const owner = functions.length ? ` (function ${functions.join(', ')})` : '';
    const fit = countDatabases && functions.length === 1 ? this.databasesThatFit(roleId, functions[0]) : undefined;
    const sentence = fit === undefined ? '' : fit.count === 0 ? ' Even with no database it does not fit: what it is given besides the databases is too large.' : ` Its permissions are scoped per database: ${fit.count} of the ${fit.total} configured databases fit.`;
    return { fit, text: `IAM role ${roleId}${owner} is too large for IAM: ${problems.join('; ')}.${sentence}` };
  }

  /** How many of the configured databases (the first ones) the role's policies would hold. */
  databasesThatFit(roleId, functionName) {
    const dr = this.serverless.service.custom?.dr;
    const configFile = this.serverless.service.custom?.configFile;
    const declared = dr?.iam?.[functionName];
    if (!declared || !configFile) return undefined;
    const { iamStatementsFor } = require('./deployment-config.cjs');
    const original = this.declared?.[roleId];
    const policies = asList(original?.Properties?.Policies);
    const index = policies.findIndex((p) => JSON.stringify(p.PolicyDocument?.Statement) === JSON.stringify(declared));
    if (index < 0) return undefined;
    const derived = iamStatementsFor(configFile);
    const total = derived.total;
    const statements = (count) => derived.statements(count)[functionName];
    const fits = (count) => {
      const resources = structuredClone(this.declared);
      const role = structuredClone(original);
      role.Properties.Policies = policies.map((p, i) => (i === index ? { ...p, PolicyDocument: { ...p.PolicyDocument, Statement: statements(count) } } : p));
      resources[roleId] = role;
      try {
        layOutRole(resources, roleId, this.context);
      } catch {
        return false;
      }
      return roleProblems(resources, roleId, this.context).length === 0;
    };
    if (!fits(0)) return { count: 0, total };
    let low = 0;
    let high = total;
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if (fits(middle)) low = middle;
      else high = middle - 1;
    }
    return { count: low, total };
  }

  stop(descriptions) {
    const counts = descriptions.map((d) => d.fit).filter((f) => f !== undefined);
    const fewest = counts.length ? Math.min(...counts.map((f) => f.count)) : undefined;
    const advice =
      fewest === undefined
        ? ''
        : fewest > 0
          ? `\nAt most ${fewest} of the ${counts[0].total} databases of ${this.serverless.service.custom.configFile} fit every role: split the databases across deployments of at most ${fewest} each.`
          : '';
    const limits = `(IAM's limits per role: ${INLINE_AGGREGATE_LIMIT.toLocaleString('en-US')} characters of inline policy, ${MANAGED_POLICIES_PER_ROLE} managed policies of ${MANAGED_POLICY_LIMIT.toLocaleString('en-US')} characters each, counted without whitespace)`;
    process.stderr.write(`Cannot package: CloudFormation would refuse these roles ${limits}.\n${descriptions.map((d) => `- ${d.text}`).join('\n')}${advice}\n`);
    process.exit(2);
  }
}

module.exports = IamPolicySize;
Object.assign(module.exports, {
  INLINE_AGGREGATE_LIMIT,
  MANAGED_POLICY_LIMIT,
  MANAGED_PACKING_TARGET,
  INLINE_PACKING_TARGET,
  MANAGED_POLICIES_PER_ROLE,
  policySize,
  compactStatements,
  packStatements,
  layOutRoles,
  roleUsage,
  roleProblems,
});
