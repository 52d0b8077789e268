// Addresses as the Go runtime prints them (%p): 0x and lower-case hex, no padding. Exact for
// every address goalloc handles (below 2^53).

export function hex(n: number): string {
  return "0x" + n.toString(16);
}
