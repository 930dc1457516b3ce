// Test-time bootstrap for TypeScript workers. `new Worker('x.ts')` fails under tsx and vitest
// ("Unknown file extension .ts", node-stack.md §1.4); registering tsx's ESM loader in the worker
// thread and then importing the entry works. Production never uses this: workers load dist/*.js.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.__entry);
