#!/usr/bin/env node
/**
 * Build the federated JupyterLab extension into ../jupyter_sleeptime/labextension.
 *
 * Does what `jupyter-builder build .` (and `jupyter labextension build .`)
 * do, without needing Python on PATH: runs @jupyter/builder's
 * build-labextension against the core metadata of @jupyterlab/core-meta
 * installed next to it. Extra arguments (--development, --source-map) pass
 * through.
 */
const { spawnSync } = require('child_process');
const path = require('path');

const root = path.resolve(__dirname, '..');
const builder = require.resolve('@jupyter/builder/lib/build-labextension.js', {
  paths: [root]
});
const core = require.resolve('@jupyterlab/core-meta/core.package.json', {
  paths: [path.dirname(builder), root]
});
const result = spawnSync(
  process.execPath,
  [builder, '--core-package-file', core, ...process.argv.slice(2), root],
  { cwd: root, stdio: 'inherit' }
);
if (result.error) {
  console.error(result.error);
  process.exit(1);
}
process.exit(result.status === null ? 1 : result.status);
