import { expect, it } from 'vitest';
import Koa from 'koa';
import koaPackage from 'koa/package.json';

// `npm test` runs every test twice: on Koa 3 (vitest.config.ts) and on Koa 2 (vitest.koa2.config.ts,
// which aliases `koa` to the `koa2` devDependency). This file fails if a run is not on the Koa it names.
const major = Number(process.env.KOA_MAJOR);

it('runs on the Koa major its config names', () => {
  expect([2, 3]).toContain(major);
  // the package that `koa` resolves to in this run
  expect(koaPackage.version.split('.')[0]).toBe(String(major));
  // and the class the tests construct: Koa 3 added `ctx.back()` (replacing `ctx.redirect('back')`); Koa 2 has none
  const { context } = new Koa();
  expect(typeof (context as { back?: unknown }).back).toBe(major === 3 ? 'function' : 'undefined');
});
