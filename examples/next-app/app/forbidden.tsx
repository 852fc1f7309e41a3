export default function Forbidden() {
  return (
    <main>
      <h1>403: your token does not allow this page</h1>
    </main>
  );
}
