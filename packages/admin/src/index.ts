/**
 * @module @tokenaccess/admin
 *
 * The operator's web page for tokenaccess (Tiki's "Admin home > Security > Tokens"): list and
 * filter tokens, inspect one, create an API token or a share link by hand (the raw token shown
 * once), revoke, rotate, disable, enable and sweep. One Fetch handler, server-rendered, usable
 * without JavaScript, mounted by any framework.
 * `npm install @tokenaccess/admin @tokenaccess/core`
 */
export { adminHandler } from './handler';
export type { AdminOptions, AdminIdentity, AuthorizeResult } from './options';
