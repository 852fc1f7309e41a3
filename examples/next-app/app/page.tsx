export default function Home() {
  return (
    <main>
      <h1>tokenaccess + Next.js</h1>
      <p>
        API: <code>/api/reports</code> (scope <code>reports:read</code>), <code>/api/admin/stats</code> (scope <code>admin</code>); a share
        link opens <code>/share/q3-report</code> once.
      </p>
    </main>
  );
}
