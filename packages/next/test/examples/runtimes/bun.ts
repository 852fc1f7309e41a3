import { handler } from './service';
import { BunStandin as Bun } from './standins';

// Bun
Bun.serve({ port: 3000, fetch: handler });
