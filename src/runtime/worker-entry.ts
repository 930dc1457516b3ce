import type { WorkerOptions } from 'node:worker_threads';

/**
 * Where a worker entry point lives. From a build (dist/), workers are the compiled
 * dist/workers/<name>.js. From source (tests, tsx), the .ts entry is started through
 * workers/tsx-bootstrap.mjs, because Node cannot start a .ts file as a worker by itself.
 */
export interface WorkerEntry {
  readonly url: URL;
  /** Merge into the Worker's workerData. */
  readonly workerData: Record<string, unknown>;
}

const fromSource = import.meta.url.endsWith('.ts');

export function workerEntry(name: string): WorkerEntry {
  if (fromSource) {
    return {
      url: new URL('../../workers/tsx-bootstrap.mjs', import.meta.url),
      workerData: { __entry: new URL(`../../workers/${name}.ts`, import.meta.url).href },
    };
  }
  return { url: new URL(`../../workers/${name}.js`, import.meta.url), workerData: {} };
}

/** Worker options with our entry's workerData merged in. */
export function workerOptions(entry: WorkerEntry, options: WorkerOptions): WorkerOptions {
  return { ...options, workerData: { ...(options.workerData as Record<string, unknown> | undefined), ...entry.workerData } };
}
