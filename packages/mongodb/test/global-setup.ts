import type { TestProject } from 'vitest/node';
import { startMongoBackend } from './server';

declare module 'vitest' {
  export interface ProvidedContext {
    mongodbUrl: string;
    mongodbBackend: string;
  }
}

/** One backend for the whole run (starting mongodb-memory-server per file would be slow). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const backend = await startMongoBackend();
  project.provide('mongodbUrl', backend.url);
  project.provide('mongodbBackend', backend.kind);
  return () => backend.close();
}
