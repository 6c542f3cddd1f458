/** Call ``fn`` at most once per ``ms``: the first call of a burst goes through, the rest of the
 * burst is dropped (an undo step per gesture, not per pointer move). */
export function leadingThrottle<Args extends unknown[]>(
  fn: (...args: Args) => void,
  ms: number,
  now: () => number = () => Date.now(),
): (...args: Args) => void {
  let last = -Infinity;
  return (...args: Args) => {
    const t = now();
    if (t - last >= ms) fn(...args);
    last = t;
  };
}
