// Tiki's cron batch URL, done right: bound to its exact query, in any order or encoding.
import { createTokenAccess, memoryStore } from '@tokenaccess/core';

export async function main() {
  const tokens = createTokenAccess({ store: memoryStore(), urlParam: 'TOKEN', ignoreParams: ['utm_source'] });
  const batch = await tokens.issueUrl({
    url: 'https://tiki.example.com/tiki-export_tracker.php?action=export&trackerId=3&separator=,&recordsMax=-1',
    expiresIn: null, // a cron job's URL does not expire...
    maxUses: 365, // ...but it is good for one run a day for a year
    name: 'nightly export',
  });
  const t = batch.token;
  const sameQueryOtherOrder = `https://tiki.example.com/tiki-export_tracker.php?recordsMax=-1&separator=%2C&trackerId=3&action=export&TOKEN=${t}`;
  const changedParameter = `https://tiki.example.com/tiki-export_tracker.php?action=export&trackerId=4&separator=,&recordsMax=-1&TOKEN=${t}`;
  const ok = await tokens.verifyUrl(sameQueryOtherOrder);
  const refused = await tokens.verifyUrl(changedParameter);
  return { ok: ok.ok, refused: refused.ok ? 'ok' : refused.error.code, shareUrl: batch.url };
}
