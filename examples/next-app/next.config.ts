import type { NextConfig } from 'next';

const config: NextConfig = {
  // `requireToken` and the share page answer 401 / 403 through unauthorized() / forbidden().
  experimental: { authInterrupts: true },
  // A share link carries its token in the URL: keep it out of Referer headers sent onwards.
  async headers() {
    return [{ source: '/share/:path*', headers: [{ key: 'Referrer-Policy', value: 'no-referrer' }] }];
  },
  // The app consumes the built @tokenaccess/* packages from node_modules: no transpilePackages.
};

export default config;
