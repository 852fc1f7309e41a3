export default function Unauthorized() {
  return (
    <main>
      <h1>401: not signed in, or the link is no longer valid</h1>
    </main>
  );
}
