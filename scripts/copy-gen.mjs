#!/usr/bin/env node
// tsc does not copy the generated JavaScript module (src/gen/proto.js and its .d.ts) into dist/;
// this runs after tsc so that dist/src/gen/index.js finds ./proto.js.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'src', 'gen');
mkdirSync(out, { recursive: true });
for (const f of ['proto.js', 'proto.d.ts']) copyFileSync(join(root, 'src', 'gen', f), join(out, f));
