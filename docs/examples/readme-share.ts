import { createTokenAccess, memoryStore } from '@tokenaccess/core';

const tokens = createTokenAccess({ store: memoryStore() });

const share = await tokens.issueUrl({ url: 'https://example.com/reports/q3.pdf?format=pdf', expiresIn: '1d', maxUses: 1 });
console.log(share.url); // https://example.com/reports/q3.pdf?format=pdf&token=tka_…

const first = await tokens.verifyUrl(share.url, { method: 'GET' }); // first.ok === true
const second = await tokens.verifyUrl(share.url, { method: 'GET' }); // second.error.code === 'exhausted'

export { share, first, second };
