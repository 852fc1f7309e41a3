// GitHub secret scanning (docs/secret-scanning.md): GitHub reports our tokens found in public
// code; this endpoint revokes the live ones and tells their owners.
import { type GitHubPublicKey, type TokenAccess, githubPublicKeys, secretScanningHandler, secretScanningPattern } from '@tokenaccess/core';

// the regular expression to send GitHub when you register (for the default prefix):
// \btka_[0-9A-Za-z]{36}\b
export const pattern = secretScanningPattern('tka');

export function leakEndpoint(
  tokens: TokenAccess,
  notify: (subject: string | undefined, message: string) => Promise<void>,
  publicKeys?: () => Promise<GitHubPublicKey[]> | GitHubPublicKey[],
) {
  return secretScanningHandler({
    tokens,
    action: 'revoke', // or 'report': leave the token live and only call onLeak
    // GitHub's keys, fetched from its meta endpoint and cached (a token raises GitHub's rate limit)
    publicKeys: publicKeys ?? githubPublicKeys({ token: process.env.GITHUB_TOKEN }),
    onLeak: (leak) => notify(leak.subject, `Your token "${leak.name}" (${leak.hint}) was published at ${leak.url} and has been revoked.`),
    onRefused: (refusal) => console.warn(`[secret-scanning] refused: ${refusal.status} ${refusal.reason}`),
  });
}
