// Writes the Kubernetes PrometheusRule (deploy/k8s/components/monitoring/prometheus-rule.yaml) from
// the plain rules file Prometheus and promtool load (deploy/monitoring/leadmesh.rules.yaml), so the
// rules have one source. Run after editing the rules: node scripts/monitoring-rules.ts
// test/deploy/monitoring.test.ts fails while the two differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse, stringify } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const RULES_FILE = join(root, 'deploy/monitoring/leadmesh.rules.yaml');
export const PROMETHEUS_RULE_FILE = join(root, 'deploy/k8s/components/monitoring/prometheus-rule.yaml');

const HEADER = `# Generated from deploy/monitoring/leadmesh.rules.yaml by \`node scripts/monitoring-rules.ts\`:
# edit that file (its comments say why each rule is as it is), then run the script.
`;

export function prometheusRuleFrom(rulesText: string): string {
  const { groups } = parse(rulesText) as { groups: unknown[] };
  const object = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'leadmesh', labels: { 'app.kubernetes.io/name': 'leadmesh-alerts' } },
    spec: { groups },
  };
  return HEADER + stringify(object, { lineWidth: 0 });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(PROMETHEUS_RULE_FILE, prometheusRuleFrom(readFileSync(RULES_FILE, 'utf8')));
  console.log(`wrote ${PROMETHEUS_RULE_FILE}`);
}
