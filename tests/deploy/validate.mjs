// Validates Kubernetes manifests offline against the API's schemas
// (kubernetes-models: types, enums, required fields).
//   node validate.mjs FILE.yaml...   exit 1 and the errors if any is invalid
import fs from 'node:fs';
import yaml from 'js-yaml';
import * as apps from 'kubernetes-models/apps/v1';
import * as core from 'kubernetes-models/v1';

const kinds = { 'apps/v1': apps, v1: core };
let bad = 0;
for (const file of process.argv.slice(2)) {
	for (const doc of yaml.loadAll(fs.readFileSync(file, 'utf8'))) {
		if (!doc) continue;
		const Model = (kinds[doc.apiVersion] || {})[doc.kind];
		const what = `${file}: ${doc.apiVersion} ${doc.kind} ${doc.metadata?.name}`;
		if (!Model) {
			console.log(`${what}: no schema for this kind here`);
			bad++;
			continue;
		}
		try {
			new Model(doc).validate();
			console.log(`${what}: valid`);
		} catch (e) {
			console.log(`${what}: INVALID: ${e.message}`);
			bad++;
		}
	}
}
process.exit(bad ? 1 : 0);
