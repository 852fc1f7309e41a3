// Runs once when the server starts. With DEMO_SEED_FILE set (the e2e test does), it issues
// known tokens into the in-memory store and writes them to that file for the test to read.
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== 'nodejs' || !process.env.DEMO_SEED_FILE) return;
  const { seed } = await import('./lib/seed');
  await seed(process.env.DEMO_SEED_FILE);
}
