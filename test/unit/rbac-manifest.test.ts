// deploy/rbac/ read as files (no cluster): the shape that lets it install on a cluster without the
// application's namespace, one group per function that talks to Kubernetes, nothing broader than the
// verbs the library uses, and names that match the example config. What each group really needs is
// checked against a real API server's audit log in test/integration/rbac.test.ts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../local/python-environment.js';
import { rbacDocuments, rbacDocumentsForNamespace, rbacGrants, rbacGroups, RBAC_NAMESPACE } from '../../local/rbac.js';
import { exampleConfig } from '../support/fixtures.js';
import { kubernetesFunctions } from '../support/kubernetes-functions.js';

const documents = rbacDocuments();
const functions = kubernetesFunctions();

describe('deploy/rbac/', () => {
  it('applies the namespace first, then everything that lives in it (kubectl apply -f deploy/rbac/ order)', () => {
    expect(documents[0]).toMatchObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: RBAC_NAMESPACE } });
    expect(documents.filter((d) => d.kind === 'Namespace')).toHaveLength(1);
    const namespaced = documents.filter((d) => d.metadata.namespace !== undefined);
    expect(namespaced.length).toBeGreaterThan(0);
    expect(new Set(namespaced.map((d) => d.metadata.namespace))).toEqual(new Set([RBAC_NAMESPACE]));
    expect(new Set(documents.map((d) => d.kind))).toEqual(new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']));
  });

  it('binds one group per function that talks to a cluster, frontier-dr:<function>, each to a role of its own name', () => {
    expect(functions.map((fn) => fn.directory)).toEqual([
      'apply-manifests-to-backup',
      'assess-primary-cluster',
      'block-addresses',
      'check-rollout',
      'collect-evidence',
      'evaluate-scenario-readiness',
      'plan-rollback',
      'repoint-application',
      'roll-back-deployment',
      'rotate-api-keys',
      'scale-deployment',
      'security-incident-preflight',
      'set-api-image',
      'set-emergency-mode',
      'stop-api-writes',
    ]);
    expect(rbacGroups()).toEqual(functions.map((fn) => fn.group).sort());
    for (const binding of documents.filter((d) => d.kind.endsWith('Binding'))) {
      expect(binding.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: binding.metadata.name }]);
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: binding.kind.replace('Binding', ''), name: binding.metadata.name });
    }
    // Every role is bound, and only to its own group.
    for (const role of documents.filter((d) => d.kind === 'Role' || d.kind === 'ClusterRole')) {
      expect(documents.some((d) => d.kind === `${role.kind}Binding` && d.metadata.name === role.metadata.name && d.metadata.namespace === role.metadata.namespace)).toBe(true);
    }
  });

  it('grants no wildcard and no verb the library never sends (delete, watch, update, escalate...)', () => {
    const grants = rbacGrants(documents);
    expect(grants.length).toBeGreaterThan(0);
    for (const rule of documents.flatMap((d) => d.rules ?? [])) {
      for (const value of [...rule.verbs, ...(rule.apiGroups ?? []), ...(rule.resources ?? []), ...(rule.nonResourceURLs ?? [])]) expect(value).not.toContain('*');
    }
    expect(new Set(grants.map((g) => g.verb))).toEqual(new Set(['get', 'list', 'patch', 'create']));
    // What no function calls: exec, RBAC objects, and ConfigMaps beyond the manifests' apply; pods and
    // their logs only for the security incident's evidence.
    const resources = new Set(grants.map((g) => g.resource));
    expect(grants.filter((g) => g.resource.startsWith('/pods')).map((g) => `${g.group} ${g.verb} ${g.resource}`).sort()).toEqual([
      'frontier-dr:collect-evidence get /pods/log',
      'frontier-dr:collect-evidence list /pods',
    ]);
    for (const never of ['/pods/exec', 'rbac.authorization.k8s.io/roles', '/serviceaccounts', 'autoscaling/horizontalpodautoscalers', 'policy/poddisruptionbudgets']) {
      expect(resources).not.toContain(never);
    }
    // ConfigMaps: the manifests' apply, emergency mode's read and patch of the one it names, and the
    // security incident's preflight, which only reads that one.
    expect(grants.filter((g) => g.resource === '/configmaps').map((g) => `${g.group} ${g.verb}${g.resourceNames ? ` [${g.resourceNames.join(',')}]` : ''}`).sort()).toEqual([
      'frontier-dr:apply-manifests-to-backup create',
      'frontier-dr:apply-manifests-to-backup patch',
      // Readiness asks what the security incident's preflight asks.
      'frontier-dr:evaluate-scenario-readiness get [frontier-config]',
      'frontier-dr:security-incident-preflight get [frontier-config]',
      'frontier-dr:set-emergency-mode get [frontier-config]',
      'frontier-dr:set-emergency-mode patch [frontier-config]',
    ]);
    // NetworkPolicies: only the block policy is written; listing them is how another one selecting the API pods is found.
    expect(grants.filter((g) => g.resource === 'networking.k8s.io/networkpolicies').map((g) => `${g.group} ${g.verb}${g.resourceNames ? ` [${g.resourceNames.join(',')}]` : ''}`).sort()).toEqual([
      'frontier-dr:block-addresses create [frontier-emergency-block]',
      'frontier-dr:block-addresses list',
      'frontier-dr:block-addresses patch [frontier-emergency-block]',
    ]);
    expect(grants.filter((g) => g.resource === '/secrets').map((g) => `${g.group} ${g.verb}`).sort()).toEqual([
      'frontier-dr:repoint-application get',
      'frontier-dr:repoint-application patch',
      'frontier-dr:rotate-api-keys get',
      'frontier-dr:rotate-api-keys patch',
    ]);
  });

  it('names the example config\'s namespace and database-URL Secret, the only objects it narrows to', () => {
    const config = exampleConfig();
    expect(config.kubernetes!.namespace).toBe(RBAC_NAMESPACE);
    const secrets = [...new Set(config.databases.flatMap((d) => (d.recovery ? [d.recovery.kubernetesSecret.name] : [])))];
    const grants = rbacGrants(documents);
    const secretGrants = grants.filter((g) => g.resource === '/secrets');
    expect(secretGrants.filter((g) => g.group !== 'frontier-dr:rotate-api-keys').every((g) => JSON.stringify(g.resourceNames) === JSON.stringify(secrets))).toBe(true);
    // The API keys' copy: securityIncident.apiKeys.kubernetesSecret (its default when the example has none).
    const apiKeysCopy = config.securityIncident?.apiKeys?.kubernetesSecret ?? 'frontier-api-keys';
    expect(secretGrants.filter((g) => g.group === 'frontier-dr:rotate-api-keys').map((g) => g.resourceNames)).toEqual([[apiKeysCopy], [apiKeysCopy]]);
    expect(grants.filter((g) => g.resource === '/namespaces')).toEqual([{ group: 'frontier-dr:apply-manifests-to-backup', verb: 'patch', resource: '/namespaces', resourceNames: [RBAC_NAMESPACE], nonResource: false }]);
  });

  it('can be written for another namespace, leaving production\'s grants alone', () => {
    const copy = rbacDocumentsForNamespace('team-a');
    expect(copy[0]).toMatchObject({ kind: 'Namespace', metadata: { name: 'team-a' } });
    expect(copy.filter((d) => d.kind === 'Role').map((d) => d.metadata.namespace)).toEqual(documents.filter((d) => d.kind === 'Role').map(() => 'team-a'));
    const grants = rbacGrants(copy);
    expect(grants.filter((g) => g.resource === '/namespaces')).toEqual([{ group: 'frontier-dr:apply-manifests-to-backup', verb: 'patch', resource: '/namespaces', resourceNames: ['team-a'], nonResource: false }]);
    // No cluster-wide document of the original is rewritten (they keep production's names).
    expect(copy.filter((d) => d.kind.startsWith('Cluster')).map((d) => d.metadata.name)).toEqual([
      'frontier-dr:apply-manifests-to-backup:team-a',
      'frontier-dr:apply-manifests-to-backup:team-a',
    ]);
  });

  it('is described group by group in its header and the README', () => {
    const header = readFileSync(path.join(projectRoot, 'deploy/rbac/frontier-dr-rbac.yaml'), 'utf8');
    const readme = readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
    for (const fn of functions) {
      expect(header).toMatch(new RegExp(`${fn.group}\\s+${fn.name}\\s+${fn.role}`));
      expect(readme).toContain(`| \`${fn.group}\` | \`${fn.name}\` |`);
    }
    expect(readme).toContain('kubectl apply -f deploy/rbac/\n');
  });
});
