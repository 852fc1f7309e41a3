import { Hono } from 'hono';
import { handler } from './service';

// Hono: c.req.raw is the standard Request
const app = new Hono();
app.all('*', (c) => handler(c.req.raw));
export default app;
