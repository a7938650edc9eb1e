/**
 * Waits until a condition holds (a counter moved, bytes arrived), polling every few ms. The
 * real-time limit only guards against a hang: tests wait for events, never for a span of time.
 */
export async function until(pred: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
