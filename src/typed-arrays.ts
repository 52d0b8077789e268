// Growing typed arrays: the emulator's span and object tables, the readers' and the replay's
// tables all grow by copying into a larger array of the same kind.

type Growable =
  | Uint8Array<ArrayBuffer>
  | Uint16Array<ArrayBuffer>
  | Uint32Array<ArrayBuffer>
  | Int32Array<ArrayBuffer>
  | Float64Array<ArrayBuffer>;

/** A new array of `capacity` elements of array's kind: array's elements, then `fill`. */
export function grown<T extends Growable>(array: T, capacity: number, fill = 0): T {
  const bigger = new (array.constructor as new (length: number) => T)(capacity);
  bigger.set(array);
  if (fill !== 0) bigger.fill(fill, array.length);
  return bigger;
}
