import type { RejectionEvent } from '@tokenaccess/core';

/**
 * The log line of a refused request (the `onRejected` hook of src/server.ts). It holds the code,
 * the status, core's reason (which never quotes a token) and the token's public id: never the
 * request URL, whose `token` parameter is a live share link.
 */
export function rejectionLine(e: RejectionEvent): string {
  return `[koa-api] refused ${e.code} (${e.status}): ${e.reason}${e.tokenId ? ` id=${e.tokenId}` : ''}`;
}
