// npm run diagrams: writes docs/statemachines/<name>.md, a Mermaid flowchart of every
// statemachines/*.asl.yaml (scripts/state-machine-diagram.ts draws them), and their index; removes
// the page of a definition that no longer exists. test/unit/diagrams.test.ts fails until this has run
// after a definition changed.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allDiagramDocuments } from './state-machine-diagram.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const documents = allDiagramDocuments(root);
const dir = join(root, 'docs', 'statemachines');
mkdirSync(dir, { recursive: true });
for (const file of readdirSync(dir)) {
  if (file.endsWith('.md') && !documents.has(`docs/statemachines/${file}`)) {
    rmSync(join(dir, file));
    console.log(`removed docs/statemachines/${file} (no such state machine)`);
  }
}
for (const [path, content] of documents) writeFileSync(join(root, path), content);
console.log(`wrote ${documents.size} files in docs/statemachines/`);
