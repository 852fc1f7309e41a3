import { handler } from './service';
import { Hono } from './standins';

// Hono: c.req.raw is the standard Request
const app = new Hono();
app.all('*', (c) => handler(c.req.raw));
export default app;
