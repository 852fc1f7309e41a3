import { handler } from './service';
import { DenoStandin as Deno } from './standins';

// Deno
Deno.serve({ port: 3000 }, handler);
