// Whoever opens a share link is a guest holding the link's scopes, not the link's issuer:
// loadSubject runs for access tokens only unless subjectKinds says otherwise. Over raw HTTP.
import Koa from 'koa';
import Router from '@koa/router';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenAuth, type TokenState } from '@tokenaccess/koa';
import { type Running, listen, rawRequest, setup } from './helpers';

type User = { id: string; role: string };
const users = new Map<string, User>([['ada', { id: 'ada', role: 'admin' }]]);
const { tokens } = setup();
let srv: Running;
const loads: string[] = [];
const loadSubject = (subject: string) => {
  loads.push(subject);
  return users.get(subject) ?? null;
};

beforeAll(async () => {
  const router = new Router<TokenState<User>>();
  const answer = (ctx: Koa.ParameterizedContext<TokenState<User>>) => {
    ctx.body = { kind: ctx.state.token.kind, user: ctx.state.user ?? null, scopes: ctx.state.token.scopes };
  };
  router.get('/docs/:id', tokenAuth<User>({ tokens, urlTokens: true, loadSubject }), answer);
  router.get('/as-issuer/:id', tokenAuth<User>({ tokens, urlTokens: true, loadSubject, subjectKinds: ['access', 'url'] }), answer);
  srv = await listen(new Koa<TokenState<User>>().use(router.routes()));
});
afterAll(() => srv.close());

const host = () => `127.0.0.1:${new URL(srv.url).port}`;
const get = (target: string, headers: Record<string, string> = {}) => rawRequest(srv, `GET ${target} HTTP/1.1`, { host: host(), ...headers });

describe('loadSubject and share links', () => {
  it('an access token loads its owner onto ctx.state.user', async () => {
    const { token } = await tokens.issue({ subject: 'ada', name: 'laptop' });
    loads.length = 0;
    const res = await get('/docs/1', { authorization: `Bearer ${token}` });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ kind: 'access', user: { id: 'ada', role: 'admin' } });
    expect(loads).toEqual(['ada']);
  });

  it("a link issued by ada opens as a guest: no user, the link's scopes, loadSubject never called", async () => {
    const share = await tokens.issueUrl({ url: `http://${host()}/docs/7`, subject: 'ada', scopes: ['docs:read'] });
    loads.length = 0;
    const res = await get(share.url.slice(`http://${host()}`.length));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ kind: 'url', user: null, scopes: ['docs:read'] });
    expect(loads).toEqual([]);
  });

  it('a link whose issuer is gone still opens for its guest (no owner lookup, so no 401)', async () => {
    const share = await tokens.issueUrl({ url: `http://${host()}/docs/8`, subject: 'deleted-user' });
    const res = await get(share.url.slice(`http://${host()}`.length));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).user).toBeNull();
  });

  it("subjectKinds: ['access', 'url'] makes the link act as its issuer, when an app asks for it", async () => {
    const share = await tokens.issueUrl({ url: `http://${host()}/as-issuer/7`, subject: 'ada' });
    loads.length = 0;
    const res = await get(share.url.slice(`http://${host()}`.length));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ kind: 'url', user: { id: 'ada' } });
    expect(loads).toEqual(['ada']);
    // and then a link of a gone issuer is refused, as an access token of a gone owner is
    const gone = await tokens.issueUrl({ url: `http://${host()}/as-issuer/8`, subject: 'deleted-user' });
    const refused = await get(gone.url.slice(`http://${host()}`.length));
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toContain('error="invalid_token"');
  });
});
