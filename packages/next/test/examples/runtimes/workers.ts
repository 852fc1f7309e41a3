import { handler } from './service';

// Cloudflare Workers
export default { fetch: handler };
